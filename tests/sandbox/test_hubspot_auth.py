"""Auth, scopes, portal separation and failure switches of the HubSpot sandbox."""

from __future__ import annotations

import httpx
import pytest
from hubspot_fixtures import (  # noqa: F401 - fixtures
    BASE_URL,
    HubSpotRig,
    api_fixture,
    assert_error,
    create_contact,
    rig_fixture,
)

from masterops_sandbox.accounts import sandbox_accounts
from masterops_sandbox.harness import SandboxTransport
from masterops_sandbox.hubspot import create_hubspot


async def test_missing_token_is_401_invalid_authentication(rig: HubSpotRig) -> None:
    response = await rig.client(token="").get("/crm/v3/objects/contacts")
    assert_error(response, 401, "INVALID_AUTHENTICATION")


async def test_unknown_token_is_401_invalid_authentication(rig: HubSpotRig) -> None:
    response = await rig.client(token="pat-na1-not-a-real-token").get("/crm/v3/objects/contacts")
    assert_error(response, 401, "INVALID_AUTHENTICATION")


async def test_non_bearer_scheme_is_401(rig: HubSpotRig) -> None:
    token = rig.accounts["teelixir"].hubspot_token
    client = rig.client(token="")
    response = await client.get("/crm/v3/objects/contacts", headers={"Authorization": token})
    assert_error(response, 401, "INVALID_AUTHENTICATION")


async def test_unauthenticated_calls_carry_no_rate_limit_headers(rig: HubSpotRig) -> None:
    response = await rig.client(token="").get("/crm/v3/objects/contacts")
    assert "x-hubspot-ratelimit-max" not in response.headers


async def test_missing_scope_is_403_missing_scopes(rig: HubSpotRig, api: httpx.AsyncClient) -> None:
    rig.sandbox.remove_scopes("teelixir", "crm.objects.contacts.write")
    response = await api.post("/crm/v3/objects/contacts", json={"properties": {}})
    body = assert_error(response, 403, "MISSING_SCOPES")
    required = body["errors"][0]["context"]["requiredGranularScopes"]
    assert required == ["crm.objects.contacts.write"]
    # Reading needs only the read scope, which the token still has.
    assert (await api.get("/crm/v3/objects/contacts")).status_code == 200


async def test_scopes_are_per_type_and_can_be_granted_back(
    rig: HubSpotRig, api: httpx.AsyncClient
) -> None:
    rig.sandbox.remove_scopes("teelixir", "crm.objects.deals.read")
    assert_error(await api.get("/crm/v3/objects/deals"), 403, "MISSING_SCOPES")
    assert (await api.get("/crm/v3/objects/contacts")).status_code == 200
    rig.sandbox.grant_scopes("teelixir", "crm.objects.deals.read")
    assert (await api.get("/crm/v3/objects/deals")).status_code == 200


async def test_schema_scope_guards_properties(rig: HubSpotRig, api: httpx.AsyncClient) -> None:
    rig.sandbox.remove_scopes("teelixir", "crm.schemas.products.read")
    assert_error(await api.get("/crm/v3/properties/products"), 403, "MISSING_SCOPES")


async def test_association_needs_scopes_of_both_types(
    rig: HubSpotRig, api: httpx.AsyncClient
) -> None:
    contact = await create_contact(api, "a@example.com")
    rig.sandbox.remove_scopes("teelixir", "crm.objects.companies.read")
    response = await api.get(f"/crm/v4/objects/contacts/{contact}/associations/companies")
    assert_error(response, 403, "MISSING_SCOPES")


async def test_each_business_is_its_own_portal(rig: HubSpotRig) -> None:
    teelixir, elevate = rig.client("teelixir"), rig.client("elevate")
    await create_contact(teelixir, "same@example.com")
    # The same email is free in another portal, and lists do not leak across portals.
    await create_contact(elevate, "same@example.com")
    await create_contact(elevate, "other@example.com")
    assert len((await teelixir.get("/crm/v3/objects/contacts")).json()["results"]) == 1
    assert len((await elevate.get("/crm/v3/objects/contacts")).json()["results"]) == 2
    state = rig.harness.state()["portals"]
    assert state["teelixir"]["objects"]["contacts"] == 1
    assert state["elevate"]["objects"]["contacts"] == 2
    assert state["teelixir"]["portal_id"] == rig.accounts["teelixir"].hubspot_portal_id


async def test_unknown_object_type_is_400(api: httpx.AsyncClient) -> None:
    response = await api.get("/crm/v3/objects/widgets")
    body = assert_error(response, 400, "VALIDATION_ERROR")
    assert "widgets" in body["message"]


async def test_object_type_ids_and_singular_names_resolve(api: httpx.AsyncClient) -> None:
    await create_contact(api, "a@example.com")
    for spelling in ("contacts", "contact", "0-1"):
        response = await api.get(f"/crm/v3/objects/{spelling}")
        assert len(response.json()["results"]) == 1


async def test_unknown_path_is_a_json_404(api: httpx.AsyncClient) -> None:
    response = await api.get("/crm/v3/nothing-here")
    assert response.status_code == 404
    assert response.json()["status"] == "error"


async def test_create_hubspot_returns_a_working_harness() -> None:
    accounts = sandbox_accounts(3)
    harness = create_hubspot(accounts, seed=3)
    assert harness.name == "hubspot"
    headers = {"Authorization": f"Bearer {accounts['boo'].hubspot_token}"}
    async with httpx.AsyncClient(
        transport=SandboxTransport(app=harness), base_url=BASE_URL, headers=headers
    ) as client:
        response = await client.get("/crm/v3/objects/products")
        assert response.status_code == 200
        assert response.json() == {"results": []}
        state = (await client.get("/_sandbox/state")).json()
    assert state["service"] == "hubspot"
    assert state["state"]["portals"]["boo"]["objects"]["products"] == 0


# --- failure switches ----------------------------------------------------------------------------


async def test_fault_injection_through_control_route(
    rig: HubSpotRig, api: httpx.AsyncClient
) -> None:
    response = await api.put("/_sandbox/faults", json={"rate_5xx": 1.0, "status_5xx": 502})
    assert response.status_code == 200
    assert (await api.get("/crm/v3/objects/contacts")).status_code == 502
    assert rig.harness.faults.injected["5xx"] == 1
    await api.delete("/_sandbox/faults")
    assert (await api.get("/crm/v3/objects/contacts")).status_code == 200


async def test_injected_429_and_dropped_connection(api: httpx.AsyncClient) -> None:
    await api.put("/_sandbox/faults", json={"rate_429": 1.0, "path_pattern": "/search$"})
    search = await api.post("/crm/v3/objects/contacts/search", json={})
    assert search.status_code == 429
    # The pattern leaves other paths alone.
    assert (await api.get("/crm/v3/objects/contacts")).status_code == 200
    await api.put(
        "/_sandbox/faults", json={"rate_429": 0.0, "rate_drop": 1.0, "path_pattern": None}
    )
    with pytest.raises(httpx.RemoteProtocolError):
        await api.get("/crm/v3/objects/contacts")


async def test_call_log_counts_route_templates(rig: HubSpotRig, api: httpx.AsyncClient) -> None:
    contact = await create_contact(api, "a@example.com")
    await api.get(f"/crm/v3/objects/contacts/{contact}")
    await api.get(f"/crm/v3/objects/contacts/{contact}")
    assert rig.harness.call_count("/crm/v3/objects/{objectType}/{objectId}", "GET") == 2
    assert rig.harness.call_count("/crm/v3/objects/{objectType}", "POST") == 1


async def test_fail_next_answers_the_next_matching_calls(
    rig: HubSpotRig, api: httpx.AsyncClient
) -> None:
    rig.sandbox.fail_next(477, times=2, method="GET", path_contains="/contacts")
    assert_error(await api.get("/crm/v3/objects/contacts"), 477, "MIGRATION_IN_PROGRESS")
    assert (await api.get("/crm/v3/objects/deals")).status_code == 200  # path does not match
    assert_error(await api.get("/crm/v3/objects/contacts"), 477, "MIGRATION_IN_PROGRESS")
    assert (await api.get("/crm/v3/objects/contacts")).status_code == 200


async def test_fail_next_locked_with_custom_message(
    rig: HubSpotRig, api: httpx.AsyncClient
) -> None:
    rig.sandbox.fail_next(423, message="locked for a merge")
    body = assert_error(await api.get("/crm/v3/objects/contacts"), 423, "LOCKED")
    assert body["message"] == "locked for a merge"
    rig.sandbox.fail_next(500, times=5)
    rig.sandbox.clear_failures()
    assert (await api.get("/crm/v3/objects/contacts")).status_code == 200


async def test_correlation_ids_repeat_for_the_same_seed() -> None:
    from hubspot_fixtures import make_rig

    seen = []
    for _ in range(2):
        made = make_rig(seed=7)
        async with made.client(token="") as client:
            seen.append((await client.get("/crm/v3/objects/contacts")).json()["correlationId"])
    assert seen[0] == seen[1]
