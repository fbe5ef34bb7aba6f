"""Property definitions in the HubSpot sandbox, and custom unique properties as idProperty."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from hubspot_fixtures import HubSpotRig, api_fixture, assert_error, rig_fixture  # noqa: F401 - fixtures

DEFAULTS = {
    "contacts": {"email", "firstname", "lastname", "phone", "company", "lifecyclestage"},
    "companies": {"name", "domain"},
    "deals": {"dealname", "amount", "dealstage", "pipeline", "closedate"},
    "products": {"name", "price", "hs_sku", "description"},
    "line_items": {"name", "quantity", "price", "hs_product_id"},
}

UNLEASHED_CODE = {
    "name": "unleashed_product_code",
    "label": "Unleashed product code",
    "type": "string",
    "fieldType": "text",
    "groupName": "productinformation",
    "hasUniqueValue": True,
}


@pytest.mark.parametrize("kind", sorted(DEFAULTS))
async def test_each_type_starts_with_realistic_properties(
    api: httpx.AsyncClient, kind: str
) -> None:
    response = await api.get(f"/crm/v3/properties/{kind}")
    assert response.status_code == 200
    names = {p["name"] for p in response.json()["results"]}
    assert DEFAULTS[kind] | {"hs_object_id", "createdate", "lastmodifieddate"} <= names


async def test_property_shape(api: httpx.AsyncClient) -> None:
    prop: dict[str, Any] = (await api.get("/crm/v3/properties/contacts/email")).json()
    assert prop["name"] == "email"
    assert prop["type"] == "string" and prop["fieldType"] == "text"
    assert prop["groupName"] == "contactinformation"
    assert prop["hasUniqueValue"] is True
    assert prop["modificationMetadata"]["readOnlyValue"] is False
    created = (await api.get("/crm/v3/properties/contacts/createdate")).json()
    assert created["modificationMetadata"]["readOnlyValue"] is True
    stage = (await api.get("/crm/v3/properties/deals/dealstage")).json()
    assert "closedwon" in {o["value"] for o in stage["options"]}


async def test_unknown_property_is_404(api: httpx.AsyncClient) -> None:
    assert_error(await api.get("/crm/v3/properties/contacts/shoe_size"), 404, "OBJECT_NOT_FOUND")


async def test_create_custom_property_then_409(api: httpx.AsyncClient) -> None:
    body = {
        "name": "favourite_tea",
        "label": "Favourite tea",
        "type": "enumeration",
        "fieldType": "select",
        "groupName": "contactinformation",
        "options": [{"label": "Green", "value": "green"}, {"label": "Black", "value": "black"}],
    }
    created = await api.post("/crm/v3/properties/contacts", json=body)
    assert created.status_code == 201
    assert created.json()["hubspotDefined"] is False
    assert (await api.get("/crm/v3/properties/contacts/favourite_tea")).status_code == 200
    again = await api.post("/crm/v3/properties/contacts", json=body)
    assert again.status_code == 409
    # The new property is writable, and its options are enforced.
    ok = await api.post("/crm/v3/objects/contacts", json={"properties": {"favourite_tea": "green"}})
    assert ok.status_code == 201
    bad = await api.post(
        "/crm/v3/objects/contacts", json={"properties": {"favourite_tea": "oolong"}}
    )
    assert_error(bad, 400, "VALIDATION_ERROR")


@pytest.mark.parametrize(
    "change",
    [
        {"name": "Bad Name"},
        {"type": "colour"},
        {"fieldType": "select"},  # not a field type for a string
        {"groupName": ""},
    ],
)
async def test_invalid_property_definitions_are_400(
    api: httpx.AsyncClient, change: dict[str, Any]
) -> None:
    response = await api.post("/crm/v3/properties/products", json={**UNLEASHED_CODE, **change})
    assert_error(response, 400, "VALIDATION_ERROR")


async def test_custom_unique_property_serves_as_id_property(
    rig: HubSpotRig, api: httpx.AsyncClient
) -> None:
    assert (await api.post("/crm/v3/properties/products", json=UNLEASHED_CODE)).status_code == 201
    upsert = await api.post(
        "/crm/v3/objects/products/batch/upsert",
        json={
            "inputs": [
                {
                    "id": "TLX-R100",
                    "idProperty": "unleashed_product_code",
                    "properties": {"name": "Reishi", "price": "39.95"},
                }
            ]
        },
    )
    assert upsert.status_code == 200
    result = upsert.json()["results"][0]
    assert result["new"] is True
    assert result["properties"]["unleashed_product_code"] == "TLX-R100"
    fetched = await api.get(
        "/crm/v3/objects/products/TLX-R100", params={"idProperty": "unleashed_product_code"}
    )
    assert fetched.status_code == 200
    assert fetched.json()["id"] == result["id"]
    # A second product may not take the same code.
    clash = await api.post(
        "/crm/v3/objects/products", json={"properties": {"unleashed_product_code": "TLX-R100"}}
    )
    assert_error(clash, 409, "CONFLICT")


async def test_python_api_add_property(rig: HubSpotRig, api: httpx.AsyncClient) -> None:
    rig.sandbox.add_property("teelixir", "deals", "order_number", unique=True)
    rig.sandbox.bulk_load("teelixir", "deals", [{"order_number": "SO-1", "dealname": "One"}])
    fetched = await api.get("/crm/v3/objects/deals/SO-1", params={"idProperty": "order_number"})
    assert fetched.status_code == 200
    assert rig.sandbox.find("teelixir", "deals", "order_number", "SO-1") is not None


async def test_properties_are_per_portal(rig: HubSpotRig) -> None:
    teelixir, elevate = rig.client("teelixir"), rig.client("elevate")
    await teelixir.post("/crm/v3/properties/products", json=UNLEASHED_CODE)
    missing = await elevate.get("/crm/v3/properties/products/unleashed_product_code")
    assert missing.status_code == 404
