"""Alerting after stored rounds: change, repeat, cooldown, recovery, and no secret in a row."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from alert_helpers import SMTP_PASSWORD, T0, TOKEN, WEBHOOK, make_config, result
from sqlalchemy import Engine, select

from masterops.alerts import (
    EmailChannel,
    LogChannel,
    SlackChannel,
    alert_on_changes,
    build_channels,
    recent_alerts,
)
from masterops.alerts.channels import UnavailableChannel
from masterops.config import Config
from masterops.db.tables import alert_history
from masterops.health import record_round
from masterops.integrations.base import HealthResult
from masterops.observability.events import EventRecorder, TelemetryHub


async def _round(
    engine: Engine, config: Config, hub: TelemetryHub, results: list[HealthResult], now: datetime
) -> list[dict[str, Any]]:
    record_round(engine, results)
    records = await alert_on_changes(results, engine, config, hub, now=now)
    return [r.to_dict() for r in records]


async def test_change_repeat_cooldown_and_recovery(engine: Engine, tmp_path: Path) -> None:
    config = make_config(tmp_path, cooldown_s=900)
    hub, recorder = TelemetryHub(), EventRecorder()
    hub.subscribe(recorder)

    async def at(minutes: int, status: str) -> list[dict[str, Any]]:
        moment = T0 + timedelta(minutes=minutes)
        return await _round(engine, config, hub, [result(status, at=moment)], moment)

    assert await at(0, "healthy") == []  # first sight of health: nothing to say
    [down] = await at(5, "down")
    # Nothing was announced before: the operator had been told nothing, not "healthy".
    assert (down["previous_status"], down["status"], down["kind"]) == (None, "down", "problem")
    assert (down["channel"], down["delivered"], down["error"]) == ("log", True, None)
    assert await at(10, "down") == []  # a repeat
    assert await at(15, "healthy") == []  # recovered within the 15-minute cooldown
    [recovered] = await at(21, "healthy")  # the cooldown is over: the recovery, once
    assert (recovered["previous_status"], recovered["kind"]) == ("down", "recovery")
    assert await at(26, "healthy") == []

    with engine.connect() as conn:
        rows = recent_alerts(conn)
    assert [(r["status"], r["previous_status"]) for r in rows] == [
        ("healthy", "down"),
        ("down", None),
    ]
    assert rows[0]["created_at"] == T0 + timedelta(minutes=21)
    logs = [e for e in recorder.logs if e.source == "alerts"]
    assert [(e.level, e.status, e.business_id, e.service) for e in logs] == [
        ("error", "problem", "teelixir", "hubspot"),
        ("warn", "recovery", "teelixir", "hubspot"),
    ]


async def test_no_secret_reaches_any_row_or_log(engine: Engine, tmp_path: Path) -> None:
    config = make_config(
        tmp_path, channels=("log", "slack", "email"), email_to=("ops@example.com",)
    )
    config = dataclasses.replace(config, smtp_host="127.0.0.1", smtp_port=1)

    def leaky_webhook(request: httpx.Request) -> httpx.Response:
        # A webhook that quotes the URL it was called on, and then fails.
        return httpx.Response(500, text=f"no such hook: {request.url}")

    hub, recorder = TelemetryHub(), EventRecorder()
    hub.subscribe(recorder)
    message = f"hubspot: AUTHENTICATION: token {TOKEN} rejected; webhook {WEBHOOK}"
    records = await alert_on_changes(
        [result("down", message=message)],
        engine,
        config,
        hub,
        slack_transport=httpx.MockTransport(leaky_webhook),
    )
    assert {(r.delivery.channel, r.delivery.delivered) for r in records} == {
        ("log", True),
        ("slack", False),
        ("email", False),
    }
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(select(alert_history))]
    assert len(rows) == 3
    text = repr(rows) + repr(recorder.events) + repr([r.to_dict() for r in records])
    for secret in (TOKEN, WEBHOOK, "webhookSecretPart42", SMTP_PASSWORD):
        assert secret not in text
    by_channel = {r["channel"]: r for r in rows}
    assert "HTTP 500" in by_channel["slack"]["error"]
    assert "127.0.0.1:1" in by_channel["email"]["error"]


def test_channels_follow_the_configuration(tmp_path: Path) -> None:
    hub = TelemetryHub()
    config = make_config(tmp_path, channels=("log", "slack", "email", "log"))
    channels = build_channels(config, hub)
    assert [c.name for c in channels] == ["log", "slack", "email"]
    assert isinstance(channels[0], LogChannel) and isinstance(channels[1], SlackChannel)
    # No SMTP host: the email channel records why instead of vanishing.
    assert isinstance(channels[2], UnavailableChannel)
    assert "MASTEROPS_SMTP_HOST" in channels[2].reason

    bare = dataclasses.replace(
        config,
        slack_webhook_url=None,
        smtp_host="smtp.example.com",
        alerts=config.alerts.model_copy(update={"email_to": ("a@example.com",)}),
    )
    slack, email = build_channels(bare, hub)[1:]
    assert isinstance(slack, UnavailableChannel) and "SLACK_WEBHOOK_URL" in slack.reason
    assert isinstance(email, EmailChannel) and email.recipients == ("a@example.com",)


async def test_unavailable_channel_is_recorded_undelivered(engine: Engine, tmp_path: Path) -> None:
    config = make_config(tmp_path, channels=("email",))
    [record] = await alert_on_changes([result("down")], engine, config, TelemetryHub())
    assert (record.delivery.channel, record.delivery.delivered) == ("email", False)
    assert record.delivery.error == "MASTEROPS_SMTP_HOST is not set"
