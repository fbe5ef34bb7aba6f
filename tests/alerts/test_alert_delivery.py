"""Reliable delivery: a failed delivery is not counted as announced; it is retried, with
backoff, by the next evaluation, through that channel only, until it gets through."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
from datetime import timedelta
from pathlib import Path

from alert_helpers import T0, make_config, result
from http_sink import http_sink
from pydantic import SecretStr
from sqlalchemy import Engine

from masterops.alerts import alert_on_changes, recent_alerts
from masterops.config import Config
from masterops.health import record_round
from masterops.integrations.base import HealthResult
from masterops.observability.events import EventRecorder, TelemetryHub


async def _round(
    engine: Engine, config: Config, hub: TelemetryHub, status: str, minutes: float
) -> list[tuple[str, str, bool]]:
    moment = T0 + timedelta(minutes=minutes)
    results: list[HealthResult] = [result(status, at=moment)]
    record_round(engine, results)
    records = await alert_on_changes(results, engine, config, hub, now=moment)
    return [(r.delivery.channel, r.alert.status, r.delivery.delivered) for r in records]


async def test_a_slack_outage_delays_the_alert_but_does_not_lose_it(
    engine: Engine, tmp_path: Path
) -> None:
    hub, recorder = TelemetryHub(), EventRecorder()
    hub.subscribe(recorder)
    with http_sink(503, 503) as slack:
        config = dataclasses.replace(
            make_config(tmp_path, channels=("log", "slack"), cooldown_s=900, retry_backoff_s=60),
            slack_webhook_url=SecretStr(slack.url),
        )
        assert await _round(engine, config, hub, "healthy", 0) == []
        # Slack fails: the log has it, Slack does not.
        assert await _round(engine, config, hub, "down", 5) == [
            ("log", "down", True),
            ("slack", "down", False),
        ]
        # Within the backoff (60 s after the first failure): nothing is tried.
        assert await _round(engine, config, hub, "down", 5.5) == []
        # After it: Slack only, fails again; the next backoff is twice as long.
        assert await _round(engine, config, hub, "down", 6.1) == [("slack", "down", False)]
        assert await _round(engine, config, hub, "down", 7.5) == []
        assert await _round(engine, config, hub, "down", 8.2) == [("slack", "down", True)]
        # Announced everywhere: a repeat says nothing, the recovery goes out once.
        assert await _round(engine, config, hub, "down", 9) == []
        assert await _round(engine, config, hub, "healthy", 30) == [
            ("log", "healthy", True),
            ("slack", "healthy", True),
        ]
        assert await _round(engine, config, hub, "healthy", 35) == []
    texts = [r.json()["text"] for r in slack.delivered]
    assert len(texts) == 2
    assert texts[0].startswith("teelixir/hubspot is DOWN\n")  # Slack had been told nothing
    assert texts[1].startswith("teelixir/hubspot recovered: healthy (was down)")
    assert len(slack.received) == 4
    logs = [e.status for e in recorder.logs if e.source == "alerts"]
    assert logs == ["problem", "recovery"]
    with engine.connect() as conn:
        assert len(recent_alerts(conn)) == 6  # every attempt is a row


async def test_a_worsening_during_an_outage_is_what_gets_through(
    engine: Engine, tmp_path: Path
) -> None:
    with http_sink(503) as slack:
        config = dataclasses.replace(
            make_config(tmp_path, channels=("slack",), cooldown_s=900, retry_backoff_s=60),
            slack_webhook_url=SecretStr(slack.url),
        )
        hub = TelemetryHub()
        assert await _round(engine, config, hub, "degraded", 0) == [("slack", "degraded", False)]
        # Within the backoff, but worse than what failed: tried at once.
        assert await _round(engine, config, hub, "down", 0.5) == [("slack", "down", True)]
    [text] = [r.json()["text"] for r in slack.delivered]
    assert text.startswith("teelixir/hubspot is DOWN\n")  # Slack was never told anything


async def test_the_generic_webhook_is_signed_and_retried_until_it_answers(
    engine: Engine, tmp_path: Path
) -> None:
    secret = "whsec-alerts-0123456789abcdef"
    with http_sink(500, 502) as hook:
        config = dataclasses.replace(
            make_config(tmp_path, channels=("webhook",), retry_backoff_s=60),
            alert_webhook_url=SecretStr(hook.url),
            alert_webhook_secret=SecretStr(secret),
        )
        hub = TelemetryHub()
        assert await _round(engine, config, hub, "down", 0) == [("webhook", "down", False)]
        assert await _round(engine, config, hub, "down", 1.1) == [("webhook", "down", False)]
        assert await _round(engine, config, hub, "down", 2) == []  # backing off 120 s
        assert await _round(engine, config, hub, "down", 3.2) == [("webhook", "down", True)]
        assert await _round(engine, config, hub, "down", 10) == []
    assert len(hook.received) == 3
    [got] = hook.delivered
    stamp = got.headers["X-MasterOps-Timestamp"]
    expected = hmac.new(secret.encode(), stamp.encode() + b"." + got.body, hashlib.sha256)
    assert got.headers["X-MasterOps-Signature"] == f"sha256={expected.hexdigest()}"
    assert got.headers["Content-Type"] == "application/json"
    payload = got.json()
    assert (payload["business_id"], payload["subject"], payload["status"], payload["kind"]) == (
        "teelixir",
        "hubspot",
        "down",
        "problem",
    )
    with engine.connect() as conn:
        errors = [r["error"] for r in recent_alerts(conn) if not r["delivered"]]
    assert [e.split(":")[0] for e in errors] == [
        "the webhook answered HTTP 502",
        "the webhook answered HTTP 500",
    ]
    assert not any(secret in e or "sinkSecret" in e for e in errors)
