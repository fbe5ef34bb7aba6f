"""``health()``: healthy only when the authenticated probe really succeeded."""

from __future__ import annotations

from hubspot_connector_helpers import BUSINESS, OBJECTS, Rig

from masterops.integrations.hubspot import HubSpotConnector


async def test_healthy(rig: Rig, hubspot: HubSpotConnector) -> None:
    result = await rig.run(hubspot.health())
    assert (result.status, result.service, result.business_id) == ("healthy", "hubspot", BUSINESS)
    assert result.details["daily_remaining"] == 649_999
    assert result.details["tier"] == "professional"
    assert rig.harness.call_count(OBJECTS, "GET") == 1


async def test_bad_token_is_down_with_authentication(rig: Rig) -> None:
    token = "pat-na1-00000000-0000-0000-0000-000000000000"
    result = await rig.run(rig.connector(token=token).health())
    assert result.status == "down"
    assert result.details["error"]["category"] == "AUTHENTICATION"
    assert result.details["error"]["status"] == 401
    assert token not in result.message and token not in repr(result.to_dict())


async def test_missing_read_scope_is_down_with_authorization(
    rig: Rig, hubspot: HubSpotConnector
) -> None:
    rig.sandbox.remove_scopes(BUSINESS, "crm.objects.contacts.read")
    result = await rig.run(hubspot.health())
    assert result.status == "down"
    assert result.details["error"]["category"] == "AUTHORIZATION"


async def test_rate_limited_probe_is_degraded(rig: Rig, hubspot: HubSpotConnector) -> None:
    rig.sandbox.fail_next(429, path_contains="/objects/contacts")
    result = await rig.run(hubspot.health())
    assert result.status == "degraded"
    assert "rate limited" in result.message


async def test_server_errors_are_down(rig: Rig, hubspot: HubSpotConnector) -> None:
    rig.sandbox.fail_next(503, times=10)
    result = await rig.run(hubspot.health())
    assert result.status == "down"
    assert result.details["error"]["category"] == "SERVER"
