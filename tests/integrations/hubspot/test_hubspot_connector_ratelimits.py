"""Rate limits: buckets sized by tier, 429s with and without Retry-After that then
succeed, the daily allowance (tracked, warned about, and failing fast once spent)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from hubspot_connector_helpers import BUSINESS, ONE, SEARCH, Rig

from masterops.integrations.base import ErrorCategory, IntegrationError
from masterops.integrations.hubspot import TIER_BURST, HubSpotConnector
from masterops.integrations.hubspot.ratelimits import seconds_until_midnight
from masterops.observability.events import EventRecorder, LogEvent


def retries(recorder: EventRecorder) -> list[LogEvent]:
    return [e for e in recorder.logs if e.service == "hubspot" and e.status == "retry"]


@pytest.mark.parametrize(
    ("tier", "burst"),
    [
        ("free", 100),
        ("starter", 100),
        ("professional", 190),
        ("enterprise", 190),
        ("limit_pack", 250),
    ],
)
def test_buckets_are_sized_by_tier(rig: Rig, tier: str, burst: int) -> None:
    conn = rig.connector(tier=tier, account=f"portal-{tier}")
    assert TIER_BURST[tier] == burst
    assert (conn.bucket().spec.capacity, conn.bucket().spec.period) == (burst, 10.0)
    assert (conn.bucket("search").spec.capacity, conn.bucket("search").spec.period) == (5, 1.0)


def test_unknown_tier_is_refused(rig: Rig) -> None:
    with pytest.raises(ValueError, match="unknown HubSpot tier 'gold'"):
        rig.connector(tier="gold")


async def test_429_without_retry_after_waits_the_window_then_succeeds(
    rig: Rig, hubspot: HubSpotConnector, recorder: EventRecorder
) -> None:
    [contact_id] = rig.sandbox.bulk_load(BUSINESS, "contacts", [{"email": "a@example.com"}])
    rig.sandbox.set_ten_second_limit(BUSINESS, 3)
    raw = rig.client()
    for _ in range(3):  # someone else spends the portal's window
        assert (await raw.get("/crm/v3/objects/contacts")).status_code == 200
    started = rig.clock.monotonic()
    record = await rig.run(hubspot.get("contacts", contact_id))
    assert record.id == contact_id
    assert rig.harness.call_count(ONE, "GET") == 2
    [retry] = retries(recorder)
    # No Retry-After: the pause is HubSpot's window, from X-HubSpot-RateLimit-Interval-Milliseconds.
    assert retry.details["delay_s"] == 10.0
    assert retry.details["error"]["category"] == "RATE_LIMIT"
    assert rig.clock.monotonic() - started >= 10.0  # virtual seconds


async def test_429_with_retry_after_honours_it(
    rig: Rig, hubspot: HubSpotConnector, recorder: EventRecorder
) -> None:
    [contact_id] = rig.sandbox.bulk_load(BUSINESS, "contacts", [{"email": "a@example.com"}])
    rig.sandbox.set_ten_second_limit(BUSINESS, 2)
    rig.sandbox.send_retry_after = True
    raw = rig.client()
    await raw.get("/crm/v3/objects/contacts")
    await rig.clock.advance(4.0)
    await raw.get("/crm/v3/objects/contacts")
    record = await rig.run(hubspot.get("contacts", contact_id))
    assert record.id == contact_id
    [retry] = retries(recorder)
    assert retry.details["delay_s"] == 6.0  # the first call leaves the window 6 s later


async def test_injected_429s_are_retried_until_success(
    rig: Rig, hubspot: HubSpotConnector, recorder: EventRecorder
) -> None:
    rig.sandbox.bulk_load(BUSINESS, "contacts", [{"email": f"{i}@example.com"} for i in range(3)])
    # Retry-After carries whole seconds (HTTP allows nothing else): 0.25 is sent as 1.
    rig.harness.faults.configure(rate_429=0.5, retry_after=0.25, seed=11)

    async def reads() -> int:
        n = 0
        for _ in range(6):
            n += len([c async for c in hubspot.iterate("contacts")])
        return n

    assert await rig.run(reads()) == 18
    assert rig.harness.faults.injected["429"] > 0
    assert {e.details["delay_s"] for e in retries(recorder)} == {1.0}


async def test_daily_figures_are_tracked(rig: Rig, hubspot: HubSpotConnector) -> None:
    assert (hubspot.daily_limit, hubspot.daily_remaining) == (None, None)
    await rig.collect(hubspot.iterate("contacts"))
    assert (hubspot.daily_limit, hubspot.daily_remaining) == (650_000, 649_999)


async def test_a_low_daily_allowance_is_warned_about_once(
    rig: Rig, hubspot: HubSpotConnector, recorder: EventRecorder
) -> None:
    rig.sandbox.set_daily_limit(BUSINESS, 20)

    async def calls(n: int) -> None:
        for _ in range(n):
            await rig.collect(hubspot.iterate("contacts"))

    await rig.run(calls(18))  # 2 left: 10 %, not below it
    assert [e for e in recorder.logs if e.status == "daily_limit_low"] == []
    await rig.run(calls(2))
    [warning] = [e for e in recorder.logs if e.status == "daily_limit_low"]
    assert warning.level == "warn" and warning.business_id == BUSINESS
    assert warning.details == {"daily_remaining": 1, "daily_limit": 20}
    assert hubspot.daily_remaining == 0


@pytest.mark.parametrize("send_retry_after", [False, True])
async def test_spent_daily_allowance_fails_fast_until_midnight(
    rig: Rig, hubspot: HubSpotConnector, send_retry_after: bool
) -> None:
    rig.sandbox.set_daily_limit(BUSINESS, 2)
    rig.sandbox.send_retry_after = send_retry_after
    await rig.collect(hubspot.iterate("contacts"))
    await rig.collect(hubspot.iterate("contacts"))
    before = rig.harness.call_count()
    with pytest.raises(IntegrationError) as caught:
        await rig.run(hubspot.get("contacts", "1"))
    error = caught.value
    assert (error.category, error.status) == (ErrorCategory.RATE_LIMIT, 429)
    assert error.details["policy_name"] == "DAILY"
    midnight = datetime(2026, 3, 3, tzinfo=UTC)
    assert error.retry_after is not None
    assert abs(error.retry_after - (midnight - rig.clock.now()).total_seconds()) < 2
    assert rig.harness.call_count() == before + 1  # no retry against a spent allowance
    assert hubspot.daily_remaining == 0
    # Later calls, search included, fail without being sent.
    for call in (hubspot.get("contacts", "1"), hubspot.search("contacts")):
        with pytest.raises(IntegrationError) as again:
            await rig.run(call)
        assert again.value.category is ErrorCategory.RATE_LIMIT
        assert again.value.request_sent is False
    assert rig.harness.call_count() == before + 1
    # After midnight the allowance is back.
    await rig.clock.advance((midnight - rig.clock.now()).total_seconds() + 1)
    assert await rig.collect(hubspot.iterate("contacts")) == []
    assert (await rig.run(hubspot.search("contacts"))).total == 0
    assert rig.harness.call_count(SEARCH, "POST") == 1


async def test_daily_reset_follows_the_account_time_zone(rig: Rig) -> None:
    melbourne = ZoneInfo("Australia/Melbourne")
    conn = rig.connector(account_timezone=melbourne)
    body = {
        "status": "error",
        "errorType": "RATE_LIMIT",
        "policyName": "DAILY",
        "message": "You have reached your daily limit.",
    }
    info = conn.rate_limit_info(httpx.Response(429, json=body))
    now = rig.clock.now()  # 2026-03-02 09:30 UTC = 20:30 in Melbourne (UTC+11)
    assert info.retry_after == seconds_until_midnight(now, melbourne) == 3.5 * 3600
    assert conn.bucket("search").delay() == pytest.approx(3.5 * 3600)


def test_seconds_until_midnight() -> None:
    now = datetime(2026, 3, 2, 23, 59, 59, 500_000, tzinfo=UTC)
    assert seconds_until_midnight(now, UTC) == 1.0  # never less than a second
    assert seconds_until_midnight(now - timedelta(hours=23, minutes=59), UTC) == pytest.approx(
        86_340.5
    )


async def test_ten_second_headers_reach_the_bucket(rig: Rig) -> None:
    conn = rig.connector()
    info = conn.rate_limit_info(
        httpx.Response(
            200,
            headers={
                "X-HubSpot-RateLimit-Max": "190",
                "X-HubSpot-RateLimit-Remaining": "7",
                "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
                "X-HubSpot-RateLimit-Daily": "650000",
                "X-HubSpot-RateLimit-Daily-Remaining": "1234",
            },
        )
    )
    assert (info.remaining, info.limit, info.window) == (7, 190, 10.0)
    assert info.retry_after is None
    assert (conn.daily_remaining, conn.daily_limit) == (1234, 650_000)
