"""The monthly call quota: our own guard (in the database ledger, on SQLite and PostgreSQL)
and the service's warnings and block."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine
from ulconn_helpers import BUSINESS, START, MovableClock, RecordingTransport, UlEnv

from masterops.db.quota import calls_in_period, record_calls
from masterops.integrations.base import ConnectorRuntime, ErrorCategory, IntegrationError
from masterops.integrations.unleashed import PRODUCTS, MonthlyQuotaGuard
from masterops.observability.events import EventRecorder, LogEvent, TelemetryHub
from masterops_sandbox.harness import SandboxTransport


def _guard(
    engine: Engine, hub: TelemetryHub, clock: MovableClock, ceiling: int
) -> MonthlyQuotaGuard:
    return MonthlyQuotaGuard(
        engine, account=BUSINESS, ceiling=ceiling, hub=hub, now=clock, business_id=BUSINESS
    )


def _quota_logs(recorder: EventRecorder) -> list[LogEvent]:
    return [e for e in recorder.logs if e.status in ("quota_warning", "quota_exhausted")]


def _ledger(engine: Engine, at: datetime) -> int:
    with engine.connect() as conn:
        return calls_in_period(conn, "unleashed", BUSINESS, at=at)


async def test_guard_warns_once_at_90_and_95_percent_and_stops_at_the_ceiling(
    engine: Engine, recorder: EventRecorder
) -> None:
    hub = TelemetryHub()
    hub.subscribe(recorder)
    clock = MovableClock()
    guard = _guard(engine, hub, clock, ceiling=20)
    totals = [await guard.spend(operation="list_products") for _ in range(20)]
    assert totals == list(range(1, 21))

    logs = _quota_logs(recorder)
    assert [(e.status, e.details["threshold_percent"], e.details["used"]) for e in logs] == [
        ("quota_warning", 90, 18),
        ("quota_warning", 95, 19),
        ("quota_exhausted", 100, 20),
    ]
    warning = logs[0]
    assert warning.level == "warn" and warning.source == "integration"
    assert warning.service == "unleashed" and warning.business_id == BUSINESS
    assert warning.operation == "list_products"
    assert "90 %" in warning.message and "2026-12-01 00:00 UTC" in warning.message

    with pytest.raises(IntegrationError) as caught:
        await guard.spend()
    error = caught.value
    assert error.category is ErrorCategory.RATE_LIMIT
    assert not error.retryable and not error.request_sent
    assert error.message == (
        "Unleashed monthly call ceiling 20 reached for account teelixir; "
        "counting resets 2026-12-01 00:00 UTC"
    )
    assert error.details["used"] == 20 and error.details["period"] == "2026-11"
    assert _ledger(engine, START) == 20  # the refused call was not counted
    assert await guard.used() == 20
    assert len(_quota_logs(recorder)) == 3  # nothing new at the refusal


async def test_the_refusal_names_the_ceiling_and_the_reset(engine: Engine) -> None:
    clock = MovableClock(datetime(2026, 11, 30, 23, 59, 59, tzinfo=UTC))
    with engine.begin() as conn:
        record_calls(conn, "unleashed", BUSINESS, calls=15_000, at=clock())
    guard = _guard(engine, TelemetryHub(), clock, ceiling=15_000)
    with pytest.raises(IntegrationError) as caught:
        await guard.spend(operation="get_product", endpoint="/Products/{guid}")
    assert str(caught.value) == (
        "unleashed get_product: RATE_LIMIT: Unleashed monthly call ceiling 15000 reached for "
        "account teelixir; counting resets 2026-12-01 00:00 UTC"
    )
    assert caught.value.endpoint == "/Products/{guid}"
    assert caught.value.retry_after == pytest.approx(1.0)
    # A new month starts the count again.
    clock.advance(seconds=1)
    assert await guard.spend() == 1
    assert _ledger(engine, clock()) == 1


async def test_a_batch_that_would_pass_the_ceiling_is_refused_whole(engine: Engine) -> None:
    clock = MovableClock()
    guard = _guard(engine, TelemetryHub(), clock, ceiling=20)
    assert await guard.spend(17) == 17
    with pytest.raises(IntegrationError, match=r"would be passed by 5 calls \(17 used\)"):
        await guard.spend(5)
    assert await guard.spend(3) == 20
    with pytest.raises(ValueError):
        await guard.spend(0)


async def test_concurrent_spenders_never_pass_the_ceiling(
    engine: Engine, recorder: EventRecorder
) -> None:
    hub = TelemetryHub()
    hub.subscribe(recorder)
    guard = _guard(engine, hub, MovableClock(), ceiling=10)
    outcomes = await asyncio.gather(*(guard.spend() for _ in range(25)), return_exceptions=True)
    granted = sorted(o for o in outcomes if isinstance(o, int))
    refused = [o for o in outcomes if isinstance(o, IntegrationError)]
    assert granted == list(range(1, 11))
    assert len(refused) == 15
    assert _ledger(engine, START) == 10
    # Each threshold exactly once; in which order the threads report them is not fixed.
    assert sorted(e.details["threshold_percent"] for e in _quota_logs(recorder)) == [90, 95, 100]


async def test_the_connector_spends_once_per_attempt_sent(
    env: UlEnv, engine: Engine, runtime: ConnectorRuntime
) -> None:
    guard = _guard(engine, runtime.hub, env.clock, ceiling=100)
    transport = RecordingTransport(SandboxTransport(app=env.harness), fail_first=2)
    async with env.connect(transport=transport, quota=guard) as ul:
        warehouses = [w async for w in ul.iterate_warehouses()]
    assert warehouses
    assert len(transport.requests) == 3  # two 503s, then the answer
    assert await guard.used() == 3


async def test_at_the_ceiling_nothing_is_sent(
    env: UlEnv, engine: Engine, runtime: ConnectorRuntime, recorder: EventRecorder
) -> None:
    guard = _guard(engine, runtime.hub, env.clock, ceiling=2)
    async with env.connect(quota=guard) as ul:
        await ul.page(PRODUCTS, page_size=1)
        await ul.page(PRODUCTS, page_size=1)
        with pytest.raises(IntegrationError) as caught:
            await ul.page(PRODUCTS, page_size=1)
        health = await ul.health()
    assert caught.value.category is ErrorCategory.RATE_LIMIT and not caught.value.retryable
    assert "ceiling 2 reached" in caught.value.message
    assert env.harness.call_count() == 2
    assert health.status != "healthy" and "ceiling 2 reached" in health.message
    failure = next(e for e in recorder.logs if e.status == "failure")
    assert failure.details["error"]["category"] == "RATE_LIMIT"
    assert failure.details["attempts"] == 1  # refused once, not retried


async def test_the_services_warnings_are_logged_once_per_level(
    env: UlEnv, recorder: EventRecorder
) -> None:
    env.sandbox.set_monthly_quota(BUSINESS, 50)
    env.sandbox.set_quota_used(BUSINESS, 43)
    async with env.connect() as ul:
        for _ in range(6):  # calls 44..49: no warning, then 90 % four times, then 95 %
            await ul.page(PRODUCTS, page_size=1)
    warnings = [e for e in recorder.logs if e.status == "quota_warning"]
    assert [e.details["threshold_percent"] for e in warnings] == ["90", "95"]
    assert all(e.details["reported_by"] == "service" for e in warnings)
    assert all(e.level == "warn" and e.business_id == BUSINESS for e in warnings)


@pytest.mark.parametrize("blocked_status", [429, 403])
async def test_the_services_quota_block_is_not_retried(
    env: UlEnv, recorder: EventRecorder, blocked_status: int
) -> None:
    env.sandbox.blocked_status = blocked_status
    env.sandbox.set_monthly_quota(BUSINESS, 50)
    env.sandbox.set_quota_used(BUSINESS, 50)
    async with env.connect() as ul:
        with pytest.raises(IntegrationError) as caught:
            await ul.get_product(env.sandbox.products(BUSINESS)[0].guid)
        health = await ul.health()
    error = caught.value
    assert error.category is ErrorCategory.RATE_LIMIT
    assert error.status == blocked_status and not error.retryable
    assert error.details["quota_reset"] == "2026-12-01T00:00:00Z"
    assert "blocked until 2026-12-01T00:00:00Z" in error.message
    assert env.harness.call_count() == 2  # the call and the probe, each sent once
    assert health.status == "degraded"
    failure = next(e for e in recorder.logs if e.status == "failure")
    assert failure.details["attempts"] == 1
