"""The search endpoint of the HubSpot sandbox: operators, caps, paging and its own limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from hubspot_fixtures import HubSpotRig, api_fixture, assert_error, rig_fixture  # noqa: F401 - fixtures

SEARCH = "/crm/v3/objects/{}/search"
START = datetime(2026, 1, 1, tzinfo=UTC)
START_MS = 1_767_225_600_000


def _filter(name: str, operator: str, **value: Any) -> dict[str, Any]:
    return {"propertyName": name, "operator": operator, **value}


async def _ids(api: httpx.AsyncClient, body: dict[str, Any], kind: str = "products") -> list[str]:
    response = await api.post(SEARCH.format(kind), json={"limit": 200, **body})
    assert response.status_code == 200, response.text
    return [r["id"] for r in response.json()["results"]]


@pytest.fixture
def products(rig: HubSpotRig) -> list[str]:
    """Five products; the third has no price and no sku, created a minute apart."""
    rows = [
        {"name": "Reishi Mushroom 100g", "price": "39.95", "hs_sku": "TLX-R100"},
        {"name": "Chaga Mushroom 50g", "price": "24.50", "hs_sku": "TLX-C050"},
        {"name": "Gift card"},
        {"name": "Lion's Mane 100g", "price": "120", "hs_sku": "TLX-L100"},
        {"name": "Cordyceps Capsules", "price": "9", "hs_sku": "tlx-cc60"},
    ]
    return rig.sandbox.bulk_load(
        "teelixir", "products", rows, created_at=START, spacing=timedelta(minutes=1)
    )


async def test_eq_is_case_insensitive(api: httpx.AsyncClient, products: list[str]) -> None:
    found = await _ids(
        api, {"filterGroups": [{"filters": [_filter("hs_sku", "EQ", value="tlx-r100")]}]}
    )
    assert found == [products[0]]


async def test_numeric_comparisons(api: httpx.AsyncClient, products: list[str]) -> None:
    # As strings "9" > "24.50"; as numbers it is the cheapest.
    cheap = await _ids(api, {"filterGroups": [{"filters": [_filter("price", "LT", value="25")]}]})
    assert cheap == [products[1], products[4]]
    assert await _ids(
        api, {"filterGroups": [{"filters": [_filter("price", "GTE", value="120")]}]}
    ) == [products[3]]
    assert await _ids(
        api, {"filterGroups": [{"filters": [_filter("price", "LTE", value="9")]}]}
    ) == [products[4]]
    between = _filter("price", "BETWEEN", value="20", highValue="40")
    assert await _ids(api, {"filterGroups": [{"filters": [between]}]}) == products[:2]


async def test_neq_in_and_not_in(api: httpx.AsyncClient, products: list[str]) -> None:
    neq = await _ids(api, {"filterGroups": [{"filters": [_filter("price", "NEQ", value="9")]}]})
    assert neq == [products[0], products[1], products[3]]  # no value matches nothing but NOT_HAS
    chosen = _filter("hs_sku", "IN", values=["TLX-R100", "tlx-l100"])
    assert await _ids(api, {"filterGroups": [{"filters": [chosen]}]}) == [products[0], products[3]]
    others = _filter("hs_sku", "NOT_IN", values=["TLX-R100", "tlx-l100"])
    assert await _ids(api, {"filterGroups": [{"filters": [others]}]}) == [products[1], products[4]]


async def test_has_and_not_has_property(api: httpx.AsyncClient, products: list[str]) -> None:
    has = await _ids(api, {"filterGroups": [{"filters": [_filter("price", "HAS_PROPERTY")]}]})
    assert products[2] not in has and len(has) == 4
    lacking = await _ids(
        api, {"filterGroups": [{"filters": [_filter("price", "NOT_HAS_PROPERTY")]}]}
    )
    assert lacking == [products[2]]


async def test_contains_token(api: httpx.AsyncClient, products: list[str]) -> None:
    word = _filter("name", "CONTAINS_TOKEN", value="mushroom")
    assert await _ids(api, {"filterGroups": [{"filters": [word]}]}) == products[:2]
    wildcard = _filter("name", "CONTAINS_TOKEN", value="caps*")
    assert await _ids(api, {"filterGroups": [{"filters": [wildcard]}]}) == [products[4]]
    not_word = _filter("name", "NOT_CONTAINS_TOKEN", value="mushroom")
    assert await _ids(api, {"filterGroups": [{"filters": [not_word]}]}) == products[2:]


async def test_groups_are_ored_and_filters_anded(
    api: httpx.AsyncClient, products: list[str]
) -> None:
    body = {
        "filterGroups": [
            {
                "filters": [
                    _filter("name", "CONTAINS_TOKEN", value="mushroom"),
                    _filter("price", "GT", value="30"),
                ]
            },
            {"filters": [_filter("name", "EQ", value="gift card")]},
        ]
    }
    assert await _ids(api, body) == [products[0], products[2]]


async def test_dates_compare_as_epoch_ms_or_iso(
    api: httpx.AsyncClient, products: list[str]
) -> None:
    after_two = START_MS + 2 * 60_000
    by_ms = _filter("createdate", "GTE", value=str(after_two))
    assert await _ids(api, {"filterGroups": [{"filters": [by_ms]}]}) == products[2:]
    by_iso = _filter("lastmodifieddate", "LT", value="2026-01-01T00:02:00Z")
    assert await _ids(api, {"filterGroups": [{"filters": [by_iso]}]}) == products[:2]


async def test_sorts_and_properties(api: httpx.AsyncClient, products: list[str]) -> None:
    body = {
        "sorts": [{"propertyName": "price", "direction": "DESCENDING"}],
        "properties": ["price"],
    }
    response = await api.post(SEARCH.format("products"), json=body)
    results = response.json()["results"]
    # Numeric order, and the product without a price comes last.
    assert [r["id"] for r in results] == [products[i] for i in (3, 0, 1, 4, 2)]
    assert set(results[0]["properties"]) == {
        "price",
        "hs_object_id",
        "createdate",
        "lastmodifieddate",
        "hs_lastmodifieddate",
    }
    ascending = await _ids(api, {"sorts": ["name"]})
    assert ascending[0] == products[1]  # "Chaga..." sorts first


async def test_free_text_query(api: httpx.AsyncClient, products: list[str]) -> None:
    assert await _ids(api, {"query": "lion"}) == [products[3]]
    assert await _ids(api, {"query": "tlx-c050"}) == [products[1]]


async def test_default_properties_of_a_contact_search(
    rig: HubSpotRig, api: httpx.AsyncClient
) -> None:
    rig.sandbox.bulk_load("teelixir", "contacts", [{"email": "a@example.com", "phone": "1"}])
    response = await api.post(SEARCH.format("contacts"), json={})
    body = response.json()
    assert body["total"] == 1
    assert set(body["results"][0]["properties"]) == {
        "createdate",
        "email",
        "firstname",
        "hs_object_id",
        "lastmodifieddate",
        "lastname",
    }


@pytest.mark.parametrize(
    ("groups", "filters_each"),
    [(6, 1), (1, 11), (3, 9)],  # too many groups; too many in a group; 27 in all
)
async def test_filter_caps(api: httpx.AsyncClient, groups: int, filters_each: int) -> None:
    group = {"filters": [_filter("name", "HAS_PROPERTY")] * filters_each}
    response = await api.post(SEARCH.format("products"), json={"filterGroups": [group] * groups})
    assert_error(response, 400, "VALIDATION_ERROR")


async def test_filter_caps_allow_the_maximum(api: httpx.AsyncClient) -> None:
    groups = [{"filters": [_filter("name", "HAS_PROPERTY")] * 5}] * 5
    response = await api.post(SEARCH.format("products"), json={"filterGroups": groups})
    assert response.status_code == 200


async def test_limit_caps_at_200(api: httpx.AsyncClient) -> None:
    assert (await api.post(SEARCH.format("contacts"), json={"limit": 200})).status_code == 200
    assert_error(
        await api.post(SEARCH.format("contacts"), json={"limit": 201}), 400, "VALIDATION_ERROR"
    )


async def test_unknown_filter_property_or_operator_is_400(api: httpx.AsyncClient) -> None:
    bad_name = {"filterGroups": [{"filters": [_filter("colour", "EQ", value="red")]}]}
    assert_error(await api.post(SEARCH.format("products"), json=bad_name), 400, "VALIDATION_ERROR")
    bad_op = {"filterGroups": [{"filters": [_filter("name", "LIKE", value="red")]}]}
    assert_error(await api.post(SEARCH.format("products"), json=bad_op), 400, "VALIDATION_ERROR")


async def test_paging_and_the_10000_cap(rig: HubSpotRig, api: httpx.AsyncClient) -> None:
    rig.sandbox.set_search_limit("teelixir", 1000)
    ids = rig.sandbox.bulk_load("teelixir", "contacts", ({} for _ in range(10_050)))
    first = (await api.post(SEARCH.format("contacts"), json={"limit": 200})).json()
    assert first["total"] == 10_050
    assert first["paging"]["next"]["after"] == "200"
    assert [r["id"] for r in first["results"]] == ids[:200]
    near_end = await api.post(SEARCH.format("contacts"), json={"limit": 200, "after": "9800"})
    assert near_end.status_code == 200
    assert near_end.json()["paging"]["next"]["after"] == "10000"
    past = await api.post(SEARCH.format("contacts"), json={"limit": 10, "after": "10000"})
    assert_error(past, 400, "VALIDATION_ERROR")


async def test_last_search_page_has_no_paging(rig: HubSpotRig, api: httpx.AsyncClient) -> None:
    rig.sandbox.bulk_load("teelixir", "contacts", ({} for _ in range(15)))
    second = await api.post(SEARCH.format("contacts"), json={"limit": 10, "after": "10"})
    assert len(second.json()["results"]) == 5
    assert "paging" not in second.json()


async def test_incremental_sync_window_on_lastmodifieddate(
    rig: HubSpotRig, api: httpx.AsyncClient
) -> None:
    rig.sandbox.set_search_limit("teelixir", 1000)
    ids = rig.sandbox.bulk_load(
        "teelixir",
        "contacts",
        ({} for _ in range(500)),
        created_at=START,
        spacing=timedelta(seconds=1),
    )
    rig.now.value = START + timedelta(days=1)
    rig.sandbox.update("teelixir", "contacts", ids[10], {"firstname": "Changed"})
    since = _filter("lastmodifieddate", "GT", value=str(START_MS + 400_000))
    sort = [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}]
    body = {"filterGroups": [{"filters": [since]}], "sorts": sort, "limit": 50}
    first = (await api.post(SEARCH.format("contacts"), json=body)).json()
    assert first["total"] == 100  # 99 later ones plus the one just touched
    rest = (await api.post(SEARCH.format("contacts"), json={**body, "after": "50"})).json()
    ordered = [r["id"] for r in first["results"] + rest["results"]]
    assert ordered == [*ids[401:], ids[10]]
    assert "paging" not in rest
    # The indexed answer agrees with a full scan of the same filter (extra AND'd filter).
    scanned = {
        "filterGroups": [{"filters": [since, _filter("hs_object_id", "HAS_PROPERTY")]}],
        "sorts": sort,
        "limit": 200,
    }
    assert await _ids(api, scanned, "contacts") == ordered


async def test_window_on_hs_object_id(rig: HubSpotRig, api: httpx.AsyncClient) -> None:
    ids = rig.sandbox.bulk_load("teelixir", "contacts", ({} for _ in range(30)))
    window = _filter("hs_object_id", "GT", value=ids[9])
    top = _filter("hs_object_id", "LTE", value=ids[19])
    body = {"filterGroups": [{"filters": [window, top]}], "sorts": ["hs_object_id"]}
    assert await _ids(api, body, "contacts") == ids[10:20]
    descending = {**body, "sorts": ["-hs_object_id"], "limit": 3}
    response = await api.post(SEARCH.format("contacts"), json=descending)
    assert [r["id"] for r in response.json()["results"]] == ids[19:16:-1]


async def test_search_has_its_own_five_per_second_limit(
    rig: HubSpotRig, api: httpx.AsyncClient
) -> None:
    for _ in range(5):
        response = await api.post(SEARCH.format("contacts"), json={})
        assert response.status_code == 200
        assert "x-hubspot-ratelimit-max" not in response.headers
    limited = await api.post(SEARCH.format("contacts"), json={})
    assert limited.status_code == 429
    body = limited.json()
    assert body["message"] == "You have reached your secondly limit."
    assert body["status"] == "error" and body["errorType"] == "RATE_LIMIT"
    # Searches did not use the ten-second allowance.
    listed = await api.get("/crm/v3/objects/contacts")
    assert listed.headers["x-hubspot-ratelimit-remaining"] == "189"
    rig.clock.advance(1.0)
    assert (await api.post(SEARCH.format("contacts"), json={})).status_code == 200


async def test_search_limit_is_per_portal(rig: HubSpotRig) -> None:
    teelixir, elevate = rig.client("teelixir"), rig.client("elevate")
    for _ in range(5):
        await teelixir.post(SEARCH.format("contacts"), json={})
    assert (await teelixir.post(SEARCH.format("contacts"), json={})).status_code == 429
    assert (await elevate.post(SEARCH.format("contacts"), json={})).status_code == 200


async def test_eq_on_a_unique_property_ignores_case(
    rig: HubSpotRig, api: httpx.AsyncClient
) -> None:
    rig.sandbox.add_property("teelixir", "products", "code", unique=True)
    ids = rig.sandbox.bulk_load("teelixir", "products", [{"code": "AbC-1"}, {"code": "xyz-2"}])
    rig.sandbox.bulk_load("teelixir", "contacts", [{"email": "Jo@Example.com"}])
    by_code = {"filterGroups": [{"filters": [_filter("code", "EQ", value="abc-1")]}]}
    assert await _ids(api, by_code) == [ids[0]]
    by_email = {"filterGroups": [{"filters": [_filter("email", "EQ", value="JO@example.COM")]}]}
    assert len(await _ids(api, by_email, "contacts")) == 1
    nobody = {"filterGroups": [{"filters": [_filter("email", "EQ", value="no@example.com")]}]}
    assert await _ids(api, nobody, "contacts") == []
