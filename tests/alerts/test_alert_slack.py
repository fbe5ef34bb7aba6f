"""Slack delivery to a local Starlette app over an in-process transport."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from alert_helpers import T0, WEBHOOK, result
from sqlalchemy import Engine, select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from masterops.alerts import ChannelState, LastAlert, SlackChannel, dispatch_alerts, judge
from masterops.alerts.rules import Alert
from masterops.config import AlertRules
from masterops.db.tables import alert_history

HOOK_PATH = "/services/T0ALERTS/B0ALERTS/webhookSecretPart42"


def _alert() -> Alert:
    rules = AlertRules(channels=("slack",))
    alert = judge(
        result("down", message="hubspot: SERVER: HTTP 503"),
        ChannelState(told=LastAlert("healthy", T0)),
        rules,
        T0,
    )
    assert alert is not None
    return alert


def _slack(status: int, received: list[dict[str, Any]]) -> Starlette:
    async def hook(request: Request) -> Response:
        received.append(await request.json())
        if status == 200:
            return PlainTextResponse("ok")
        return JSONResponse({"error": "invalid_token", "url": str(request.url)}, status)

    return Starlette(routes=[Route(HOOK_PATH, hook, methods=["POST"])])


def _rows(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(alert_history))]


async def test_delivered_to_the_webhook_and_recorded(engine: Engine) -> None:
    received: list[dict[str, Any]] = []
    channel = SlackChannel(WEBHOOK, transport=httpx.ASGITransport(app=_slack(200, received)))
    [record] = await dispatch_alerts([(channel, _alert())], engine, now=T0)
    assert record.delivery.delivered and record.delivery.error is None
    [payload] = received
    assert list(payload) == ["text"]
    assert payload["text"].startswith("teelixir/hubspot is DOWN (was healthy)\n")
    assert "hubspot: SERVER: HTTP 503" in payload["text"]
    [row] = _rows(engine)
    assert (row["channel"], row["delivered"], row["error"], row["status"]) == (
        "slack",
        True,
        None,
        "down",
    )
    assert row["previous_status"] == "healthy" and row["created_at"] == T0


async def test_a_failing_webhook_is_recorded_without_the_url(engine: Engine) -> None:
    received: list[dict[str, Any]] = []
    channel = SlackChannel(WEBHOOK, transport=httpx.ASGITransport(app=_slack(403, received)))
    [record] = await dispatch_alerts([(channel, _alert())], engine)
    assert not record.delivery.delivered and received  # it was tried
    [row] = _rows(engine)
    assert row["delivered"] is False
    assert "HTTP 403" in row["error"] and "invalid_token" in row["error"]
    assert "webhookSecretPart42" not in repr(row) and WEBHOOK not in repr(row)


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ConnectError(f"cannot connect to {WEBHOOK}"),
        httpx.ReadTimeout("the read timed out"),
        RuntimeError(f"unexpected trouble at {HOOK_PATH}"),
    ],
    ids=["connect", "timeout", "bug"],
)
async def test_a_network_failure_is_recorded_not_raised(engine: Engine, failure: Exception) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise failure

    channel = SlackChannel(WEBHOOK, transport=httpx.MockTransport(fail))
    [record] = await dispatch_alerts([(channel, _alert())], engine)
    assert not record.delivery.delivered
    assert type(failure).__name__ in (record.delivery.error or "")
    [row] = _rows(engine)
    assert "webhookSecretPart42" not in repr(row) and "hooks.slack.com/services" not in repr(row)
