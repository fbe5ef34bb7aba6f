"""Routing per business and severity (``[[alerts.routes]]``), with email recipients per
route, through a real SMTP server and a local HTTP server standing in for Slack; and the
validation of routes, which names the key at fault."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

import pytest
from alert_helpers import T0, make_config, result
from http_sink import http_sink
from pydantic import SecretStr
from smtp_sink import smtp_sink
from sqlalchemy import Engine

from masterops.alerts import alert_on_changes
from masterops.config import AlertRoute, ConfigError, load_config
from masterops.observability.events import EventRecorder, TelemetryHub


async def test_alerts_follow_the_routes_and_recoveries_follow_the_alerts(
    engine: Engine, tmp_path: Path
) -> None:
    routes = (
        AlertRoute(business=("teelixir",), severity=("down",), channels=("slack", "email")),
        AlertRoute(severity=("degraded",), channels=("email",), email_to=("shift@example.com",)),
    )
    hub, recorder = TelemetryHub(), EventRecorder()
    hub.subscribe(recorder)
    with http_sink() as slack, smtp_sink() as (port, mail):
        config = dataclasses.replace(
            make_config(
                tmp_path,
                channels=("log",),
                email_to=("owner@example.com",),
                routes=routes,
                cooldown_s=0,
            ),
            slack_webhook_url=SecretStr(slack.url),
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_password=None,
        )

        async def round_(minutes: int, status: str, business: str) -> list[tuple[str, str]]:
            at = T0 + timedelta(minutes=minutes)
            found = [result(status, business=business, at=at)]
            records = await alert_on_changes(found, engine, config, hub, now=at)
            assert all(r.delivery.delivered for r in records)
            return [(r.delivery.channel, r.alert.title) for r in records]

        # teelixir down: the first route (Slack and the owner's email), not the default log.
        assert await round_(1, "down", "teelixir") == [
            ("slack", "teelixir/hubspot is DOWN"),
            ("email", "teelixir/hubspot is DOWN"),
        ]
        # elevate down: no route matches, so the default channels.
        assert await round_(1, "down", "elevate") == [("log", "elevate/hubspot is DOWN")]
        # teelixir better but still degraded: the degraded route (email to the shift); Slack,
        # which was told "down", hears of the change too.
        assert await round_(2, "degraded", "teelixir") == [
            ("slack", "teelixir/hubspot is DEGRADED (was down)"),
            ("email", "teelixir/hubspot is DEGRADED (was down)"),
        ]
        # The recovery reaches every channel that was told, and nobody else.
        assert await round_(3, "healthy", "teelixir") == [
            ("slack", "teelixir/hubspot recovered: healthy (was degraded)"),
            ("email", "teelixir/hubspot recovered: healthy (was degraded)"),
        ]
        assert await round_(4, "healthy", "teelixir") == []
    assert [m["To"] for m in mail] == [
        "owner@example.com",
        "shift@example.com",
        "shift@example.com",
    ]
    assert [e.message for e in recorder.logs if e.source == "alerts"] == [
        "elevate/hubspot is DOWN: hubspot answered: down"
    ]


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        (
            '[[alerts.routes]]\nchanels = ["slack"]\n',
            "alerts.routes.0.chanels: unknown key; did you mean 'channels'?",
        ),
        (
            '[[alerts.routes]]\nbusiness = ["telixir"]\nchannels = ["slack"]\n',
            "alerts.routes.0.business: unknown business 'telixir'; did you mean 'teelixir'?",
        ),
        (
            '[[alerts.routes]]\nseverity = ["critical"]\nchannels = ["slack"]\n',
            "alerts.routes.0.severity.0: Input should be 'degraded' or 'down'",
        ),
        ('[[alerts.routes]]\nbusiness = ["boo"]\n', "alerts.routes.0.channels: Field required"),
        (
            "[alerts]\nquota_warn_percent = 95\nquota_critical_percent = 90\n",
            "quota_critical_percent must be above quota_warn_percent",
        ),
        ("[alerts]\nerror_rate_percent = 0\n", "alerts.error_rate_percent: Input should be"),
    ],
)
def test_bad_routes_and_thresholds_name_the_key(tmp_path: Path, toml: str, message: str) -> None:
    (tmp_path / "masterops.toml").write_text(toml)
    with pytest.raises(ConfigError) as caught:
        load_config({}, cwd=tmp_path)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_routes_are_read_from_the_file(tmp_path: Path) -> None:
    (tmp_path / "masterops.toml").write_text(
        '[alerts]\nchannels = ["log"]\nexpect_worker = true\n\n'
        '[[alerts.routes]]\nbusiness = ["teelixir"]\nseverity = ["down"]\n'
        'channels = ["slack", "email"]\nemail_to = ["a@example.com"]\n'
    )
    rules = load_config({}, cwd=tmp_path).alerts
    assert rules.expect_worker is True
    assert rules.routes == (
        AlertRoute(
            business=("teelixir",),
            severity=("down",),
            channels=("slack", "email"),
            email_to=("a@example.com",),
        ),
    )
