"""Helpers for the HTTP service tests (imported by name: tests/web has no package)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import Engine
from starlette.applications import Starlette

from masterops.web import WebSettings
from masterops.web.inbox import InboxEvent
from masterops_sandbox.accounts import SandboxAccount
from masterops_sandbox.hubspot import HubSpotSandbox

BASE_URL = "https://ops.example.com"
HOOK_URL = f"{BASE_URL}/webhooks/hubspot?app=masterops"


@dataclass
class Web:
    engine: Engine
    app: Starlette
    client: httpx.AsyncClient
    hubspot: HubSpotSandbox
    accounts: dict[str, SandboxAccount]


def settings_for(accounts: dict[str, SandboxAccount], **overrides: object) -> WebSettings:
    values: dict[str, object] = {
        "hubspot_secrets": {slug: a.hubspot_client_secret for slug, a in accounts.items()},
        "hubspot_portals": {a.hubspot_portal_id: slug for slug, a in accounts.items()},
    }
    values.update(overrides)
    return WebSettings(**values)  # type: ignore[arg-type]


def make_token(engine: Engine, scope: str, *businesses: str, name: str | None = None) -> str:
    """A new API token of ``scope`` (limited to ``businesses`` when given)."""
    import secrets

    from masterops.db.api_tokens import create_token

    with engine.begin() as conn:
        _, token = create_token(
            conn,
            name=name or f"{scope}-{secrets.token_hex(4)}",
            scope=scope,
            businesses=list(businesses) or None,
        )
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def inbox_event(event_id: str) -> InboxEvent:
    """A HubSpot contact event of teelixir, as the receiver hands it to the inbox."""
    return InboxEvent(
        source="hubspot",
        event_id=event_id,
        business_id="teelixir",
        subscription_type="contact.creation",
        object_id="501",
        occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
        payload={"eventId": event_id},
    )


def _same_keys(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows of one multi-row INSERT must name the same columns: fill the gaps with None."""
    keys = {k for row in rows for k in row}
    return [{k: row.get(k) for k in keys} for row in rows]


def seed_rows(engine: Engine, *, message: str = "token refused") -> None:
    """A little of everything the API, the metrics and the dashboard read."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import insert

    from masterops.db.tables import (
        api_metrics,
        health_checks,
        integration_logs,
        webhook_inbox,
        workflow_execution_logs,
    )
    from masterops.sync.state import finish_run, start_run

    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(
            insert(health_checks),
            _same_keys(
                [
                    # An older "down" that a newer "healthy" replaces.
                    {
                        "business_id": "teelixir",
                        "service": "hubspot",
                        "status": "down",
                        "message": "old",
                        "checked_at": now - timedelta(hours=1),
                    },
                    {
                        "business_id": "teelixir",
                        "service": "hubspot",
                        "status": "healthy",
                        "latency_ms": 12.5,
                        "message": "ok",
                        "checked_at": now,
                    },
                    {
                        "business_id": "teelixir",
                        "service": "unleashed",
                        "status": "degraded",
                        "latency_ms": 2500.0,
                        "message": message,
                        "checked_at": now,
                    },
                    {
                        "business_id": "boo",
                        "service": "n8n",
                        "status": "disabled",
                        "message": "set MASTEROPS_BOO_N8N_URL",
                        "checked_at": now,
                    },
                ]
            ),
        )
        conn.execute(
            insert(integration_logs),
            _same_keys(
                [
                    {
                        "source": "integration",
                        "service": "hubspot",
                        "level": "error",
                        "message": message,
                        "business_id": "teelixir",
                        "operation": "search",
                        "created_at": now - timedelta(minutes=5),
                    },
                    {
                        "source": "sync",
                        "service": "unleashed",
                        "level": "info",
                        "message": "synced",
                        "business_id": "elevate",
                        "created_at": now - timedelta(minutes=4),
                    },
                    {
                        "source": "integration",
                        "service": "hubspot",
                        "level": "warn",
                        "message": "retrying",
                        "business_id": "teelixir",
                        "created_at": now - timedelta(hours=3),
                    },
                ]
            ),
        )
        conn.execute(
            insert(api_metrics),
            _same_keys(
                [
                    {
                        "service": "hubspot",
                        "endpoint": "/crm/v3/objects/contacts",
                        "method": "GET",
                        "status_code": 200,
                        "success": True,
                        "duration_ms": 40.0,
                        "created_at": now,
                    },
                    {
                        "service": "hubspot",
                        "endpoint": "/crm/v3/objects/contacts",
                        "method": "GET",
                        "status_code": 500,
                        "success": False,
                        "duration_ms": 90.0,
                        "created_at": now,
                    },
                    {
                        "service": "unleashed",
                        "endpoint": "/Products",
                        "method": "GET",
                        "status_code": 200,
                        "success": True,
                        "duration_ms": 120.0,
                        "created_at": now,
                    },
                    {
                        "service": "n8n",
                        "endpoint": "/api/v1/workflows",
                        "method": "GET",
                        "status_code": 200,
                        "success": True,
                        "duration_ms": 5.0,
                        "created_at": now - timedelta(days=2),
                    },
                ]
            ),
        )
        conn.execute(
            insert(workflow_execution_logs),
            [
                {
                    "workflow_id": "wf1",
                    "workflow_name": f"Orders {message}",
                    "execution_id": "ex1",
                    "status": "error",
                    "started_at": now,
                    "error_message": message,
                },
            ],
        )
        conn.execute(
            insert(webhook_inbox),
            [
                {
                    "source": "hubspot",
                    "event_id": str(i),
                    "business_id": "teelixir",
                    "payload_json": {"eventId": i},
                    "received_at": now,
                    "status": status,
                    "attempts": 0,
                }
                for i, status in enumerate(["pending", "pending", "processed", "failed"])
            ],
        )
        run = start_run(conn, "teelixir", "inventory", full=False, watermark=None)
        finish_run(
            conn,
            run,
            "failed",
            fetched=3,
            written=2,
            failed=1,
            watermark="w",
            error_message=message,
        )
        start_run(conn, "elevate", "inventory", full=True, watermark=None)
    # The raw log and metric rows went in directly: roll them up as the sink would have.
    from masterops.db.rollups import rebuild

    rebuild(engine)
