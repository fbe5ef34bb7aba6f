"""A convergence test per database-read rule: the condition is made to happen in the
database, and exactly one alert arrives per channel (the log, a real SMTP server, a local
HTTP server standing in for Slack), then exactly one recovery."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from alert_helpers import T0, make_config
from http_sink import HttpSink, http_sink
from pydantic import SecretStr
from smtp_sink import smtp_sink
from sqlalchemy import Engine, insert

from masterops.config import Config
from masterops.db.tables import sync_runs, webhook_inbox, workflow_execution_logs
from masterops.observability.events import EventRecorder, TelemetryHub
from masterops.operations.alerts import evaluate_alerts


@dataclasses.dataclass
class Channels:
    config: Config
    hub: TelemetryHub
    log: EventRecorder
    slack: HttpSink
    mail: list[EmailMessage]

    def counts(self) -> tuple[int, int, int]:
        logs = [e for e in self.log.logs if e.source == "alerts"]
        return (len(logs), len(self.slack.delivered), len(self.mail))

    def texts(self) -> list[str]:
        return [r.json()["text"].splitlines()[0] for r in self.slack.delivered]


@pytest.fixture
def channels(tmp_path: Path) -> Iterator[Channels]:
    with http_sink() as slack, smtp_sink() as (port, mail):
        config = dataclasses.replace(
            make_config(
                tmp_path, channels=("log", "slack", "email"), email_to=("ops@example.com",)
            ),
            slack_webhook_url=SecretStr(slack.url),
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_password=None,
        )
        hub, recorder = TelemetryHub(), EventRecorder()
        hub.subscribe(recorder)
        yield Channels(config, hub, recorder, slack, mail)


def _run(engine: Engine, entity: str, status: str, at: datetime, **row: Any) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(sync_runs),
            {
                "business_id": "teelixir",
                "entity": entity,
                "status": status,
                "started_at": at - timedelta(seconds=30),
                "finished_at": at,
                **row,
            },
        )


async def _converge(
    engine: Engine,
    ch: Channels,
    make_trouble: Callable[[], None],
    end_trouble: Callable[[], None],
    moments: tuple[datetime, datetime, datetime, datetime],
) -> None:
    async def evaluate(at: datetime) -> None:
        await evaluate_alerts(ch.config, engine, ch.hub, now=at)

    await evaluate(moments[0])
    assert ch.counts() == (0, 0, 0)  # all well: nothing to say
    make_trouble()
    await evaluate(moments[1])
    await evaluate(moments[1] + timedelta(minutes=1))  # a repeat says nothing
    assert ch.counts() == (1, 1, 1)
    end_trouble()
    await evaluate(moments[2])
    await evaluate(moments[3])
    assert ch.counts() == (2, 2, 2)


async def test_a_failed_sync_alerts_once_then_recovers_once(
    engine: Engine, channels: Channels
) -> None:
    _run(engine, "orders", "succeeded", T0)
    at = (T0, T0 + timedelta(minutes=15), T0 + timedelta(minutes=45), T0 + timedelta(minutes=50))
    await _converge(
        engine,
        channels,
        lambda: _run(engine, "orders", "failed", at[1], error_message="Unleashed: HTTP 503"),
        lambda: _run(engine, "orders", "succeeded", at[2]),
        at,
    )
    assert channels.texts() == [
        "teelixir/sync:orders is DOWN",
        "teelixir/sync:orders recovered: healthy (was down)",
    ]
    body = channels.mail[0].get_content()
    assert "the orders sync failed: Unleashed: HTTP 503" in body
    assert channels.mail[0]["Subject"] == "[Master-Ops] teelixir/sync:orders is DOWN"


async def test_refused_items_alert_once_then_recover_once(
    engine: Engine, channels: Channels
) -> None:
    _run(engine, "customers", "succeeded", T0)
    at = (T0, T0 + timedelta(minutes=15), T0 + timedelta(minutes=45), T0 + timedelta(minutes=50))
    await _converge(
        engine,
        channels,
        lambda: _run(engine, "customers", "succeeded", at[1], failed=3),
        lambda: _run(engine, "customers", "succeeded", at[2]),
        at,
    )
    assert channels.texts()[0] == "teelixir/sync:customers is DEGRADED"
    assert "3 item(s) were refused" in channels.mail[0].get_content()


async def test_stale_data_alerts_once_then_recovers_once(
    engine: Engine, channels: Channels
) -> None:
    # inventory runs every 900 s; stale after 3 x 900 s without a success.
    _run(engine, "inventory", "succeeded", T0)
    at = (
        T0 + timedelta(minutes=40),
        T0 + timedelta(minutes=46),
        T0 + timedelta(minutes=90),
        T0 + timedelta(minutes=95),
    )
    await _converge(
        engine,
        channels,
        lambda: None,  # time passes: 46 minutes since the last success
        lambda: _run(engine, "inventory", "succeeded", at[2] - timedelta(minutes=1)),
        at,
    )
    assert channels.texts() == [
        "teelixir/stale:inventory is DEGRADED",
        "teelixir/stale:inventory recovered: healthy (was degraded)",
    ]


def _execution(engine: Engine, number: int, status: str, at: datetime, **row: Any) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(workflow_execution_logs),
            {
                "workflow_id": "wf-orders",
                "workflow_name": "Order webhook",
                "instance": "http://n8n.test",
                "execution_id": str(number),
                "status": status,
                "business_id": "teelixir",
                "started_at": at - timedelta(seconds=5),
                "finished_at": at,
                **row,
            },
        )


async def test_a_burst_of_failed_n8n_executions_is_one_alert_then_one_recovery(
    engine: Engine, channels: Channels
) -> None:
    _execution(engine, 1, "success", T0)
    at = (T0, T0 + timedelta(minutes=15), T0 + timedelta(minutes=45), T0 + timedelta(minutes=50))
    failure = {
        "error_message": "Cannot read properties of undefined",
        "error_details_json": {"node": "Map order"},
    }

    def burst() -> None:  # 3 of 3 failed, as in the trial run
        for n in (2, 3, 4):
            _execution(engine, n, "error", at[1] - timedelta(seconds=10 - n), **failure)

    await _converge(engine, channels, burst, lambda: _execution(engine, 5, "success", at[2]), at)
    assert channels.texts() == [
        "teelixir/n8n:wf-orders is DOWN",
        "teelixir/n8n:wf-orders recovered: healthy (was down)",
    ]
    body = channels.mail[0].get_content()
    assert "'Order webhook' failed at node 'Map order' (execution 4)" in body
    assert "Cannot read properties of undefined" in body


async def test_webhook_events_that_gave_up_alert_once_then_recover_once(
    engine: Engine, channels: Channels
) -> None:
    def event(number: int, status: str, at: datetime) -> None:
        with engine.begin() as conn:
            conn.execute(
                insert(webhook_inbox),
                {
                    "source": "hubspot",
                    "business_id": "teelixir",
                    "event_id": f"evt-{number}",
                    "payload_json": {},
                    "received_at": at,
                    "status": status,
                    "attempts": 5 if status == "failed" else 1,
                },
            )

    event(1, "done", T0)
    day = timedelta(days=1)
    at = (T0, T0 + timedelta(minutes=15), T0 + timedelta(minutes=16) + day, T0 + 2 * day)
    await _converge(engine, channels, lambda: event(2, "failed", at[1]), lambda: None, at)
    assert channels.texts() == [
        "teelixir/webhooks:hubspot is DEGRADED",
        "teelixir/webhooks:hubspot recovered: healthy (was degraded)",
    ]
    assert "1 hubspot webhook event(s) gave up" in channels.mail[0].get_content()
