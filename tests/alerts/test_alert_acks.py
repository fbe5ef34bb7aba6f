"""Acknowledging an alert: its subject stays quiet, whatever it does, until it recovers;
the recovery is sent and ends the acknowledgement. By the operation, ``ops alerts ack``
and ``POST /api/v1/alerts/{id}/ack``."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from alert_helpers import T0, make_config
from sqlalchemy import Engine, insert, select

from masterops.alerts.acks import open_acks
from masterops.db.api_tokens import create_token
from masterops.db.tables import alert_acks, alert_history, sync_runs
from masterops.observability.events import EventRecorder, TelemetryHub
from masterops.operations.alerts import acknowledge_alert, evaluate_alerts
from masterops.web import create_app


def _run(engine: Engine, status: str, at: datetime, **row: Any) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(sync_runs),
            {
                "business_id": "teelixir",
                "entity": "orders",
                "status": status,
                "started_at": at - timedelta(seconds=30),
                "finished_at": at,
                **row,
            },
        )


async def test_an_acknowledged_alert_is_quiet_until_it_recovers(
    engine: Engine, tmp_path: Path
) -> None:
    config = make_config(tmp_path, cooldown_s=0)
    hub, recorder = TelemetryHub(), EventRecorder()
    hub.subscribe(recorder)

    async def told(minutes: int) -> list[str]:
        records = await evaluate_alerts(config, engine, hub, now=T0 + timedelta(minutes=minutes))
        return [r.alert.title for r in records]

    _run(engine, "succeeded", T0 - timedelta(minutes=1))
    _run(engine, "failed", T0, error_message="HTTP 503")
    assert await told(1) == ["teelixir/sync:orders is DOWN"]
    done = acknowledge_alert(engine, "teelixir/sync:orders", note="Unleashed is down, on it")
    assert (done.business_id, done.service, done.status) == ("teelixir", "sync:orders", "down")
    _run(engine, "succeeded", T0 + timedelta(minutes=2), failed=4)  # better, still bad
    assert await told(2) == []
    _run(engine, "failed", T0 + timedelta(minutes=3))  # worse again
    assert await told(3) == []
    with engine.connect() as conn:
        assert list(open_acks(conn)) == [("teelixir", "sync:orders")]
    _run(engine, "succeeded", T0 + timedelta(minutes=4))
    assert await told(4) == ["teelixir/sync:orders recovered: healthy (was down)"]
    with engine.connect() as conn:
        assert open_acks(conn) == {}
        [cleared] = conn.execute(select(alert_acks.c.cleared_at)).scalars()
    assert cleared == T0 + timedelta(minutes=4)
    _run(engine, "failed", T0 + timedelta(minutes=5))  # a new problem: heard again
    assert await told(5) == ["teelixir/sync:orders is DOWN (was healthy)"]


def test_ops_alerts_ack_by_id_and_its_errors(ops, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    with engine.begin() as conn:
        alert_id = conn.execute(
            insert(alert_history).returning(alert_history.c.id),
            {
                "business_id": "teelixir",
                "service": "n8n:wf-1",
                "status": "down",
                "channel": "log",
                "message": "n8n workflow failed",
                "delivered": True,
                "created_at": T0,
            },
        ).scalar_one()
    acked = ops("alerts", "ack", str(alert_id), "--note", "known", "--json")
    assert acked.exit_code == 0, acked.stderr
    answer = json.loads(acked.stdout)
    assert answer["service"] == "n8n:wf-1" and answer["note"] == "known"
    [listed] = json.loads(ops("alerts", "list", "--json").stdout)
    assert listed["id"] == alert_id and listed["acknowledged"] is True
    said = ops("alerts", "ack", "teelixir/n8n:wf-1")
    assert said.exit_code == 0 and "quiet until it recovers" in said.stdout
    for target, message in (
        ("999", "no alert 999"),
        ("teelixir", "ID|SUBJECT must be an alert id or BUSINESS/SERVICE"),
        ("boo/sync:orders", "no alert about boo/sync:orders"),
    ):
        bad = ops("alerts", "ack", target)
        assert bad.exit_code == 2 and message in bad.stderr
        assert "Traceback" not in bad.stderr
    with engine.connect() as conn:
        assert conn.execute(select(alert_acks.c.alert_id)).scalars().all() == [alert_id, None]


def _token(engine: Engine, scope: str, *businesses: str) -> dict[str, str]:
    with engine.begin() as conn:
        _, token = create_token(
            conn,
            name=f"{scope}-{len(businesses)}",
            scope=scope,
            businesses=list(businesses) or None,
        )
    return {"Authorization": f"Bearer {token}"}


async def test_the_api_lists_shows_and_acknowledges(engine: Engine) -> None:
    with engine.begin() as conn:
        ids = [
            conn.execute(
                insert(alert_history).returning(alert_history.c.id),
                {
                    "business_id": business,
                    "service": "hubspot",
                    "status": "down",
                    "channel": "slack",
                    "message": f"{business}/hubspot is DOWN",
                    "delivered": delivered,
                    "created_at": T0,
                },
            ).scalar_one()
            for business, delivered in (("teelixir", True), ("elevate", False))
        ]
    app = create_app(engine)
    reader, operator = _token(engine, "read"), _token(engine, "operate")
    limited = _token(engine, "operate", "elevate")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ops") as client:
        everything = (await client.get("/api/v1/alerts", headers=reader)).json()
        assert [a["id"] for a in everything["alerts"]] == ids[::-1]
        undelivered = await client.get("/api/v1/alerts?delivered=false", headers=reader)
        assert [a["business_id"] for a in undelivered.json()["alerts"]] == ["elevate"]
        mine = (await client.get("/api/v1/alerts", headers=limited)).json()
        assert [a["business_id"] for a in mine["alerts"]] == ["elevate"]
        hidden = await client.get(f"/api/v1/alerts/{ids[0]}", headers=limited)
        assert hidden.status_code == 404 and hidden.json()["error"] == "not_found"

        refused = await client.post(f"/api/v1/alerts/{ids[0]}/ack", headers=reader)
        assert refused.status_code == 403
        other = await client.post(f"/api/v1/alerts/{ids[0]}/ack", headers=limited)
        assert other.status_code == 403 and other.json()["error"] == "business_not_allowed"
        missing = await client.post("/api/v1/alerts/424242/ack", headers=operator)
        assert missing.status_code == 404
        unknown_field = await client.post(
            f"/api/v1/alerts/{ids[0]}/ack", headers=operator, json={"notes": "x"}
        )
        assert unknown_field.status_code == 400
        acked = await client.post(
            f"/api/v1/alerts/{ids[0]}/ack", headers=operator, json={"note": "on it"}
        )
        assert acked.status_code == 201, acked.text
        assert acked.json()["note"] == "on it" and acked.json()["status"] == "down"
        shown = (await client.get(f"/api/v1/alerts/{ids[0]}", headers=reader)).json()
        assert shown["acknowledged"] is True and shown["message"] == "teelixir/hubspot is DOWN"
        listed = (await client.get("/api/v1/alerts", headers=reader)).json()["alerts"]
        assert [a["acknowledged"] for a in listed] == [False, True]
    with engine.connect() as conn:
        [who] = conn.execute(select(alert_acks.c.acked_by)).scalars()
    assert who.startswith("operate-")
