"""What a library workflow does, in a few lines: ``ops workflows show``."""

from __future__ import annotations

from typing import Any

from masterops.workflows.library import WEBHOOK_TYPE, WorkflowDefinition, webhook_routes
from masterops.workflows.platform import (
    CREDENTIAL_NAME,
    HTTP_REQUEST_TYPE,
    PLATFORM_URL,
    error_workflow_name,
    signs_orders,
    uses_platform_credential,
)

SCHEDULE_TYPE = "n8n-nodes-base.scheduleTrigger"
ERROR_TRIGGER_TYPE = "n8n-nodes-base.errorTrigger"


def describe(definition: WorkflowDefinition) -> dict[str, Any]:
    triggers: list[str] = []
    calls: list[str] = []
    for node in definition.nodes:
        kind = node.get("type")
        params = node.get("parameters") or {}
        if kind == SCHEDULE_TYPE:
            triggers.append(f"schedule {_schedule(params)}")
        elif kind == WEBHOOK_TYPE:
            triggers += [f"webhook {m} /webhook/{p}" for m, p in webhook_routes(node)]
        elif kind == ERROR_TRIGGER_TYPE:
            triggers.append("when a workflow naming it as error workflow fails")
        elif kind == HTTP_REQUEST_TYPE and PLATFORM_URL in str(params.get("url", "")):
            method = str(params.get("method") or "GET").upper()
            path = str(params["url"]).removeprefix("=").removeprefix(PLATFORM_URL)
            calls.append(f"{method} {path}")
    uses_credential = any(uses_platform_credential(n) for n in definition.nodes)
    return {
        "name": definition.name,
        "file": str(definition.path),
        "tags": definition.tags,
        "triggers": triggers,
        "calls": calls,
        "credential": CREDENTIAL_NAME if uses_credential else None,
        "signed_with": (
            "each business's order webhook secret (MASTEROPS_<BUSINESS>_ORDER_WEBHOOK_SECRET), "
            "bound at deploy"
            if signs_orders(definition)
            else None
        ),
        "error_workflow": error_workflow_name(definition),
        "nodes": [
            {"name": n["name"], "type": n.get("type"), "version": f"{n.get('typeVersion', 1):g}"}
            for n in definition.nodes
        ],
    }


def _schedule(params: dict[str, Any]) -> str:
    rules = (params.get("rule") or {}).get("interval") or [{}]
    parts = []
    for rule in rules:
        field = rule.get("field", "days")
        if field == "minutes":
            parts.append(f"every {rule.get('minutesInterval', 5)} min")
        elif field == "hours":
            parts.append(f"every {rule.get('hoursInterval', 1)} h")
        elif field == "days":
            at = rule.get("triggerAtHour", 0)
            parts.append(f"every {rule.get('daysInterval', 1)} day(s) at {at:02d}:00")
        else:
            parts.append(field)
    return ", ".join(parts)
