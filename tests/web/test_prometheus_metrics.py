"""``/metrics`` through prometheus_client: counters and histograms fed by the process's
telemetry (real calls to the sandbox), beside the gauges read from the database."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine
from test_metrics_and_dashboard import parse
from web_helpers import bearer, make_token

from masterops.config import load_config
from masterops.integrations.base import IntegrationError
from masterops.observability.events import TelemetryHub
from masterops.observability.prometheus import PrometheusTelemetry
from masterops.operations.services import open_services
from masterops.web import WebSettings, create_app


async def _scrape(app_engine: Engine, settings: WebSettings) -> dict[str, dict]:  # type: ignore[type-arg]
    app = create_app(app_engine, settings)
    headers = bearer(make_token(app_engine, "read"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), headers=headers) as client:
        answer = await client.get("http://ops/metrics")
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    return parse(answer.text)


async def test_api_calls_are_counted_for_rate_and_timed(engine: Engine, tmp_path: Path) -> None:
    config = load_config({}, cwd=tmp_path)  # no credentials: the sandbox, in-process
    telemetry = PrometheusTelemetry()
    hub = TelemetryHub()
    hub.subscribe(telemetry)
    with open_services(config, hub, engine) as services:
        settings = WebSettings(breakers=services.runtime.breakers, telemetry=telemetry)
        async with services.hubspot("teelixir") as hubspot:
            await hubspot.list_properties("contacts")
            first = await _scrape(engine, settings)
            await hubspot.list_properties("contacts")
            await hubspot.list_properties("deals")
            second = await _scrape(engine, settings)

    ok = frozenset({("service", "hubspot"), ("outcome", "success")})
    calls = first["masterops_api_calls_total"]
    assert calls[ok] == 1
    # A counter only grows: what Prometheus's rate() needs (the 24 h gauges cannot).
    assert second["masterops_api_calls_total"][ok] == 3
    durations = second["masterops_api_call_duration_seconds_bucket"]
    assert durations[frozenset({("service", "hubspot"), ("le", "+Inf")})] == 3
    # The breaker of the account the calls went through, closed.
    [(labels, state)] = second["masterops_breaker_state"].items()
    assert dict(labels)["service"] == "hubspot" and state == 0
    # The database gauges are still there beside them.
    assert second["masterops_webhook_inbox_pending"] == {frozenset(): 0}


async def test_failures_and_retries_are_counted(engine: Engine, tmp_path: Path) -> None:
    (tmp_path / "masterops.toml").write_text(
        "[limits.retry]\nmax_attempts = 2\nbase_delay_s = 0.01\nmax_delay_s = 0.01\n"
    )
    config = load_config({}, cwd=tmp_path)
    telemetry = PrometheusTelemetry()
    hub = TelemetryHub()
    hub.subscribe(telemetry)
    with open_services(config, hub, engine) as services:
        services.sandbox.harness("hubspot").faults.configure(rate_5xx=1.0)
        hubspot = services.hubspot("teelixir")
        async with hubspot:
            with pytest.raises(IntegrationError):
                await hubspot.list_properties("contacts")  # a 503, retried once, a 503
        metrics = await _scrape(engine, WebSettings(telemetry=telemetry))
    calls = metrics["masterops_api_calls_total"]
    assert calls == {frozenset({("service", "hubspot"), ("outcome", "failure")}): 2}
    events = metrics["masterops_integration_events_total"]
    retries = [v for k, v in events.items() if dict(k).get("status") == "retry"]
    assert retries == [1]
