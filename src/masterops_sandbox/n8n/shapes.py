"""How workflows, tags and executions look on the wire.

The real server does not answer every endpoint with the same fields: a created
workflow has no ``tags``, an updated one has ``tags`` but no ``shared``, a list
leaves out ``description`` and ``versionCounter``, an updated tag has no
``createdAt``, a deleted execution's ``id`` is a number. The views below copy
what n8n 1.123 sent, because clients are written against what they receive.
"""

from __future__ import annotations

from typing import Any, Literal

from masterops_sandbox.n8n.runner import run_workflow, start_node, trigger_items
from masterops_sandbox.n8n.store import JSON, Execution, N8nStore, Tag, Workflow, iso

WorkflowView = Literal["create", "get", "list", "update", "activate", "deactivate", "delete"]
OWNER_NAME = "Sandbox Owner"
OWNER_EMAIL = "owner@sandbox.local"


def tag_json(tag: Tag, view: Literal["create", "get", "update"] = "get") -> JSON:
    if view == "create":
        return {
            "name": tag.name,
            "id": tag.id,
            "updatedAt": iso(tag.updated_at),
            "createdAt": iso(tag.created_at),
        }
    if view == "update":
        return {"id": tag.id, "name": tag.name, "updatedAt": iso(tag.updated_at)}
    return {
        "updatedAt": iso(tag.updated_at),
        "createdAt": iso(tag.created_at),
        "id": tag.id,
        "name": tag.name,
    }


def workflow_json(store: N8nStore, wf: Workflow, view: WorkflowView) -> JSON:
    out: JSON = {
        "updatedAt": iso(wf.updated_at),
        "createdAt": iso(wf.created_at),
        "id": wf.id,
        "name": wf.name,
        "description": None,
        "active": wf.active,
        "isArchived": False,
        "nodes": wf.nodes,
        "connections": wf.connections,
        "settings": wf.settings,
        "staticData": wf.static_data,
        "meta": None,
        "pinData": None,
        "versionId": wf.version_id,
        "activeVersionId": wf.active_version_id,
        "versionCounter": wf.version_counter,
        "triggerCount": wf.trigger_count,
    }
    if view == "create":
        # The created entity is serialised in the order its fields were assigned.
        return {key: out[key] for key in _CREATE_ORDER}
    if view == "list":
        del out["description"], out["versionCounter"]
        out["shared"] = _shared(store, wf, full=False)
        out["activeVersion"] = _active_version(wf)
        out["tags"] = [tag_json(t) for t in store.workflow_tags(wf)]
    elif view == "get":
        out["shared"] = _shared(store, wf, full=True)
        out["tags"] = [tag_json(t) for t in store.workflow_tags(wf)]
        out["activeVersion"] = _active_version(wf)
    elif view == "update":
        out["tags"] = [tag_json(t) for t in store.workflow_tags(wf)]
    elif view == "activate":
        out["activeVersion"] = _active_version(wf)
    elif view in ("deactivate", "delete"):
        out["shared"] = _shared(store, wf, full=True)
        if view == "deactivate":
            out["activeVersion"] = None
    return out


_CREATE_ORDER = (
    "name",
    "nodes",
    "connections",
    "settings",
    "active",
    "versionId",
    "id",
    "description",
    "staticData",
    "meta",
    "pinData",
    "activeVersionId",
    "updatedAt",
    "createdAt",
    "isArchived",
    "versionCounter",
    "triggerCount",
)


def _shared(store: N8nStore, wf: Workflow, *, full: bool) -> list[JSON]:
    entry: JSON = {
        "updatedAt": iso(wf.shared_at),
        "createdAt": iso(wf.shared_at),
        "role": "workflow:owner",
        "workflowId": wf.id,
        "projectId": store.project_id,
    }
    if full:
        created = iso(store.created_at)
        entry["project"] = {
            "updatedAt": created,
            "createdAt": created,
            "id": store.project_id,
            "name": f"{OWNER_NAME} <{OWNER_EMAIL}>",
            "type": "personal",
            "icon": None,
            "description": None,
            "projectRelations": [
                {
                    "updatedAt": created,
                    "createdAt": created,
                    "userId": store.owner_user_id,
                    "projectId": store.project_id,
                    "user": {
                        "updatedAt": created,
                        "createdAt": created,
                        "id": store.owner_user_id,
                        "email": OWNER_EMAIL,
                        "firstName": "Sandbox",
                        "lastName": "Owner",
                        "personalizationAnswers": None,
                        "settings": {"userActivated": True},
                        "disabled": False,
                        "mfaEnabled": False,
                        "lastActiveAt": (created or "")[:10],
                        "isPending": False,
                    },
                }
            ],
        }
    return [entry]


def _active_version(wf: Workflow) -> JSON | None:
    if wf.active_version_id is None:
        return None
    _, nodes, connections, created = wf.versions.get(
        wf.active_version_id, (wf.name, wf.nodes, wf.connections, wf.updated_at)
    )
    at = iso(wf.activated_at or created)
    return {
        "updatedAt": at,
        "createdAt": at,
        "versionId": wf.active_version_id,
        "workflowId": wf.id,
        "nodes": nodes,
        "connections": connections,
        "authors": OWNER_NAME,
        "name": None,
        "description": None,
    }


def version_json(wf: Workflow, version_id: str) -> JSON | None:
    """GET /workflows/{id}/{versionId}: a saved version of the workflow."""
    version = wf.versions.get(version_id)
    if version is None:
        return None
    name, nodes, connections, created = version
    return {
        "versionId": version_id,
        "workflowId": wf.id,
        "nodes": nodes,
        "connections": connections,
        "authors": OWNER_NAME,
        "name": name,
        "description": None,
        "createdAt": iso(created),
        "updatedAt": iso(created),
    }


def workflow_snapshot(wf: Workflow) -> JSON:
    """The ``workflowData`` an execution keeps: the workflow as it was when it ran."""
    return {
        "id": wf.id,
        "name": wf.name,
        "active": wf.active,
        "activeVersionId": wf.active_version_id,
        "isArchived": False,
        "createdAt": iso(wf.created_at),
        "updatedAt": iso(wf.updated_at),
        "nodes": [_with_defaults(n) for n in wf.nodes],
        "connections": wf.connections,
        "settings": wf.settings,
        "staticData": {},
        "pinData": None,
    }


def _with_defaults(node: JSON) -> JSON:
    """A node as the engine saw it: the real server fills in the Webhook node's defaults."""
    if node.get("type") != "n8n-nodes-base.webhook":
        return node
    given: JSON = node.get("parameters") or {}
    mode = given.get("responseMode", "onReceived")
    params: JSON = {
        "multipleMethods": False,
        "httpMethod": given.get("httpMethod", "GET"),
        "path": given.get("path", ""),
        "authentication": "none",
        "responseMode": mode,
    }
    if mode == "lastNode":
        params["responseData"] = "firstEntryJson"
    elif mode == "onReceived":
        params["contentTypeNotice"] = ""
    params.update({k: v for k, v in given.items() if k not in params})
    params.setdefault("options", {})
    return {**node, "parameters": params}


def execution_json(
    store: N8nStore,
    execution: Execution,
    *,
    view: Literal["list", "get", "delete"] = "list",
    include_data: bool = False,
) -> JSON:
    out: JSON = {
        "id": int(execution.id) if view == "delete" else str(execution.id),
        "finished": execution.finished,
        "mode": execution.mode,
        "retryOf": _str_or_none(execution.retry_of),
        "retrySuccessId": _str_or_none(execution.retry_success_id),
        "status": execution.status,
    }
    if view != "list":
        out["createdAt"] = iso(execution.created_at)
    out["startedAt"] = iso(execution.started_at)
    out["stoppedAt"] = iso(execution.stopped_at)
    if view != "list":
        out["deletedAt"] = None
    out["workflowId"] = execution.workflow_id
    out["waitTill"] = iso(execution.wait_till)
    if include_data:
        out["data"] = execution_data(store, execution)
        out["workflowData"] = execution.workflow_data or _snapshot_or_stub(store, execution)
        out["customData"] = {}
    return out


def _str_or_none(value: int | None) -> str | None:
    return None if value is None else str(value)


def _snapshot_or_stub(store: N8nStore, execution: Execution) -> JSON:
    wf = store.workflows.get(execution.workflow_id)
    if wf is not None:
        return workflow_snapshot(wf)
    return {"id": execution.workflow_id, "name": None, "nodes": [], "connections": {}}


def execution_data(store: N8nStore, execution: Execution) -> JSON:
    """The run data: recorded for runs the sandbox made, rebuilt for seeded history."""
    if execution.data is not None:
        return execution.data
    wf = store.workflows.get(execution.workflow_id)
    start = start_node(wf.nodes) if wf is not None else None
    if wf is None or start is None:
        return {"version": 1, "startData": {}, "resultData": {"runData": {}}}
    started_ms = int(execution.started_at * 1000)
    fail_at = None
    if execution.status in ("error", "crashed") and execution.error_node:
        fail_at = (execution.error_node, execution.error_message or "Unknown error")
    outcome = run_workflow(
        wf.nodes,
        wf.connections,
        start=start,
        items=trigger_items(start, started_ms),
        started_ms=started_ms,
        source=_source(execution.mode),
        fail_at=fail_at,
    )
    return outcome.data


def _source(mode: str) -> str:
    return {"trigger": "trigger", "webhook": "webhook", "retry": "retry"}.get(mode, "manual")


def first_item_json(items: list[JSON]) -> Any:
    return items[0].get("json", {}) if items else {}
