"""The HubSpot sandbox's ten-secondly and daily limits, driven by a fake clock."""

from __future__ import annotations

import httpx
import pytest
from hubspot_fixtures import HubSpotRig, api_fixture, rig_fixture  # noqa: F401 - fixtures

LIST = "/crm/v3/objects/contacts"


async def _spend(client: httpx.AsyncClient, calls: int) -> httpx.Response:
    response = None
    for _ in range(calls):
        response = await client.get(LIST)
        assert response.status_code == 200, response.text
    assert response is not None
    return response


async def test_headers_on_normal_answers(api: httpx.AsyncClient) -> None:
    response = await api.get(LIST)
    headers = response.headers
    assert headers["x-hubspot-ratelimit-max"] == "190"  # teelixir is professional
    assert headers["x-hubspot-ratelimit-remaining"] == "189"
    assert headers["x-hubspot-ratelimit-interval-milliseconds"] == "10000"
    assert headers["x-hubspot-ratelimit-daily"] == "650000"
    assert headers["x-hubspot-ratelimit-daily-remaining"] == "649999"


async def test_errors_behind_the_limiter_also_carry_headers(api: httpx.AsyncClient) -> None:
    response = await api.get(f"{LIST}/123456")
    assert response.status_code == 404
    assert response.headers["x-hubspot-ratelimit-remaining"] == "189"


@pytest.mark.parametrize(("business", "limit"), [("elevate", 100), ("teelixir", 190)])
async def test_ten_secondly_429_body_and_headers(
    rig: HubSpotRig, business: str, limit: int
) -> None:
    client = rig.client(business)
    last = await _spend(client, limit)
    assert last.headers["x-hubspot-ratelimit-remaining"] == "0"
    limited = await client.get(LIST)
    assert limited.status_code == 429
    body = limited.json()
    assert body["status"] == "error"
    assert body["message"] == "You have reached your ten_secondly_rolling limit."
    assert body["errorType"] == "RATE_LIMIT"
    assert body["policyName"] == "TEN_SECONDLY_ROLLING"
    assert len(body["correlationId"]) == 36
    assert "category" not in body
    assert limited.headers["x-hubspot-ratelimit-remaining"] == "0"
    assert "retry-after" not in limited.headers  # unverified for HubSpot: off by default


async def test_rejected_calls_do_not_consume(rig: HubSpotRig, api: httpx.AsyncClient) -> None:
    rig.sandbox.set_ten_second_limit("teelixir", 3)
    await _spend(api, 3)
    for _ in range(5):
        assert (await api.get(LIST)).status_code == 429
    assert rig.sandbox.usage("teelixir")["daily_used"] == 3
    rig.clock.advance(10.0)
    response = await api.get(LIST)
    assert response.status_code == 200
    assert response.headers["x-hubspot-ratelimit-remaining"] == "2"


async def test_window_rolls(rig: HubSpotRig, api: httpx.AsyncClient) -> None:
    rig.sandbox.set_ten_second_limit("teelixir", 4)
    await _spend(api, 2)
    rig.clock.advance(6.0)
    await _spend(api, 2)
    assert (await api.get(LIST)).status_code == 429
    rig.clock.advance(4.0)  # the first two are now ten seconds old
    last = await _spend(api, 2)
    assert last.headers["x-hubspot-ratelimit-remaining"] == "0"
    assert (await api.get(LIST)).status_code == 429


async def test_limits_are_per_portal(rig: HubSpotRig) -> None:
    rig.sandbox.set_ten_second_limit("teelixir", 1)
    teelixir, elevate = rig.client("teelixir"), rig.client("elevate")
    await _spend(teelixir, 1)
    assert (await teelixir.get(LIST)).status_code == 429
    assert (await elevate.get(LIST)).status_code == 200


async def test_tier_can_change_at_run_time(rig: HubSpotRig) -> None:
    client = rig.client("elevate")
    assert (await client.get(LIST)).headers["x-hubspot-ratelimit-max"] == "100"
    rig.sandbox.set_tier("elevate", "limit_pack")
    response = await client.get(LIST)
    assert response.headers["x-hubspot-ratelimit-max"] == "250"
    assert response.headers["x-hubspot-ratelimit-remaining"] == "248"
    assert response.headers["x-hubspot-ratelimit-daily"] == "1000000"
    with pytest.raises(ValueError, match="unknown HubSpot tier"):
        rig.sandbox.set_tier("elevate", "platinum")


async def test_daily_limit(rig: HubSpotRig, api: httpx.AsyncClient) -> None:
    rig.sandbox.set_daily_limit("teelixir", 3)
    last = await _spend(api, 3)
    assert last.headers["x-hubspot-ratelimit-daily-remaining"] == "0"
    rig.clock.advance(60.0)  # the ten-second window is clear; the day is not
    limited = await api.get(LIST)
    assert limited.status_code == 429
    body = limited.json()
    assert body["policyName"] == "DAILY"
    assert body["errorType"] == "RATE_LIMIT"
    # Searches draw on the same daily allowance.
    search = await api.post("/crm/v3/objects/contacts/search", json={})
    assert search.status_code == 429 and search.json()["policyName"] == "DAILY"


async def test_daily_limit_resets_at_midnight(rig: HubSpotRig, api: httpx.AsyncClient) -> None:
    rig.sandbox.set_daily_limit("teelixir", 1)
    await _spend(api, 1)
    assert (await api.get(LIST)).status_code == 429
    rig.now.advance(hours=15)  # 09:30 -> 00:30 the next day
    rig.clock.advance(15 * 3600)
    assert (await api.get(LIST)).status_code == 200


async def test_retry_after_is_a_switch(rig: HubSpotRig, api: httpx.AsyncClient) -> None:
    rig.sandbox.send_retry_after = True
    rig.sandbox.set_ten_second_limit("teelixir", 1)
    await _spend(api, 1)
    rig.clock.advance(2.5)
    limited = await api.get(LIST)
    assert limited.headers["retry-after"] == "8"  # the first call leaves the window in 7.5 s


async def test_rate_limit_category_switch(rig: HubSpotRig, api: httpx.AsyncClient) -> None:
    rig.sandbox.rate_limit_category = True
    rig.sandbox.set_ten_second_limit("teelixir", 0)
    body = (await api.get(LIST)).json()
    assert body["category"] == "RATE_LIMITS"


async def test_reset_rate_limits(rig: HubSpotRig, api: httpx.AsyncClient) -> None:
    rig.sandbox.set_ten_second_limit("teelixir", 1)
    await _spend(api, 1)
    rig.sandbox.reset_rate_limits()
    assert (await api.get(LIST)).status_code == 200
    assert rig.harness.state()["portals"]["teelixir"]["limits"]["ten_secondly_used"] == 1


async def test_control_routes_are_never_limited(rig: HubSpotRig, api: httpx.AsyncClient) -> None:
    rig.sandbox.set_ten_second_limit("teelixir", 0)
    assert (await api.get("/_sandbox/state")).status_code == 200
    assert (await api.get(LIST)).status_code == 429
