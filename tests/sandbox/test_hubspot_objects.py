"""Single-record routes of the HubSpot sandbox: list, get, create, update, archive."""

from __future__ import annotations

import json

import httpx
import pytest
from hubspot_fixtures import (  # noqa: F401 - fixtures
    HubSpotRig,
    api_fixture,
    assert_error,
    create_contact,
    make_rig,
    rig_fixture,
)

OBJECT_TYPES = ("contacts", "companies", "deals", "products", "line_items")


async def test_create_answers_201_with_string_values_and_defaults(api: httpx.AsyncClient) -> None:
    response = await api.post(
        "/crm/v3/objects/products",
        json={"properties": {"name": "Reishi 100g", "price": 39.95, "hs_sku": "TLX-R100"}},
    )
    assert response.status_code == 201
    record = response.json()
    assert isinstance(record["id"], str) and record["id"].isdigit()
    props = record["properties"]
    assert props["price"] == "39.95"  # numbers come back as strings
    assert props["hs_object_id"] == record["id"]
    assert props["createdate"] == record["createdAt"] == "2026-03-02T09:30:00.000Z"
    assert props["lastmodifieddate"] == record["updatedAt"]
    assert record["archived"] is False
    assert all(v is None or isinstance(v, str) for v in props.values())


@pytest.mark.parametrize("type_name", OBJECT_TYPES)
async def test_every_type_has_the_same_record_shape(api: httpx.AsyncClient, type_name: str) -> None:
    created = await api.post(f"/crm/v3/objects/{type_name}", json={"properties": {}})
    assert created.status_code == 201
    record = (await api.get(f"/crm/v3/objects/{type_name}/{created.json()['id']}")).json()
    assert set(record) >= {"id", "properties", "createdAt", "updatedAt", "archived"}
    assert {"hs_object_id", "createdate", "lastmodifieddate"} <= set(record["properties"])


async def test_get_returns_only_requested_properties_plus_the_defaults(
    api: httpx.AsyncClient,
) -> None:
    contact = await create_contact(api, "jo@example.com", firstname="Jo", phone="0400 000 000")
    response = await api.get(
        f"/crm/v3/objects/contacts/{contact}", params={"properties": "phone,nosuchproperty"}
    )
    assert set(response.json()["properties"]) == {
        "phone",
        "hs_object_id",
        "createdate",
        "lastmodifieddate",
    }
    default = (await api.get(f"/crm/v3/objects/contacts/{contact}")).json()["properties"]
    assert set(default) == {
        "createdate",
        "email",
        "firstname",
        "hs_object_id",
        "lastmodifieddate",
        "lastname",
    }
    assert default["lastname"] is None  # requested but unset


async def test_get_by_email_id_property(api: httpx.AsyncClient) -> None:
    contact = await create_contact(api, "Mixed.Case@Example.com")
    response = await api.get(
        "/crm/v3/objects/contacts/mixed.case@example.com", params={"idProperty": "email"}
    )
    assert response.status_code == 200
    assert response.json()["id"] == contact
    assert response.json()["properties"]["email"] == "mixed.case@example.com"
    missing = await api.get(
        "/crm/v3/objects/contacts/nobody@example.com", params={"idProperty": "email"}
    )
    assert_error(missing, 404, "OBJECT_NOT_FOUND")


async def test_id_property_must_be_unique(api: httpx.AsyncClient) -> None:
    await create_contact(api, "a@example.com", firstname="Al")
    response = await api.get("/crm/v3/objects/contacts/Al", params={"idProperty": "firstname"})
    assert_error(response, 400, "VALIDATION_ERROR")


async def test_missing_record_is_404_object_not_found(api: httpx.AsyncClient) -> None:
    assert_error(await api.get("/crm/v3/objects/deals/12345"), 404, "OBJECT_NOT_FOUND")
    patch = await api.patch("/crm/v3/objects/deals/12345", json={"properties": {"dealname": "x"}})
    assert_error(patch, 404, "OBJECT_NOT_FOUND")


async def test_duplicate_contact_email_is_409_with_existing_id(api: httpx.AsyncClient) -> None:
    contact = await create_contact(api, "dup@example.com")
    response = await api.post(
        "/crm/v3/objects/contacts", json={"properties": {"email": "DUP@example.com"}}
    )
    body = assert_error(response, 409, "CONFLICT")
    assert body["message"] == f"Contact already exists. Existing ID: {contact}"


async def test_update_changes_values_and_the_modified_date(
    rig: HubSpotRig, api: httpx.AsyncClient
) -> None:
    contact = await create_contact(api, "a@example.com", firstname="Ann", phone="1")
    rig.now.advance(minutes=5)
    response = await api.patch(
        f"/crm/v3/objects/contacts/{contact}", json={"properties": {"firstname": "Anne"}}
    )
    assert response.status_code == 200
    props = response.json()["properties"]
    assert props["firstname"] == "Anne"
    assert props["lastmodifieddate"] == "2026-03-02T09:35:00.000Z"
    assert props["createdate"] == "2026-03-02T09:30:00.000Z"


async def test_empty_string_clears_a_value(api: httpx.AsyncClient) -> None:
    contact = await create_contact(api, "a@example.com", phone="0400")
    await api.patch(f"/crm/v3/objects/contacts/{contact}", json={"properties": {"phone": ""}})
    record = await api.get(f"/crm/v3/objects/contacts/{contact}", params={"properties": "phone"})
    assert record.json()["properties"]["phone"] is None


async def test_update_by_id_property(api: httpx.AsyncClient) -> None:
    contact = await create_contact(api, "a@example.com")
    response = await api.patch(
        "/crm/v3/objects/contacts/a@example.com",
        params={"idProperty": "email"},
        json={"properties": {"lastname": "Smith"}},
    )
    assert response.json()["id"] == contact
    assert response.json()["properties"]["lastname"] == "Smith"


async def test_unknown_and_read_only_properties_are_400(api: httpx.AsyncClient) -> None:
    contact = await create_contact(api, "a@example.com")
    response = await api.patch(
        f"/crm/v3/objects/contacts/{contact}",
        json={"properties": {"shoe_size": "9", "hs_object_id": "1"}},
    )
    body = assert_error(response, 400, "VALIDATION_ERROR")
    assert body["message"].startswith("Property values were not valid: ")
    details = json.loads(body["message"].removeprefix("Property values were not valid: "))
    assert {(d["name"], d["error"]) for d in details} == {
        ("shoe_size", "PROPERTY_DOESNT_EXIST"),
        ("hs_object_id", "READ_ONLY_VALUE"),
    }
    create = await api.post("/crm/v3/objects/contacts", json={"properties": {"createdate": "1"}})
    assert_error(create, 400, "VALIDATION_ERROR")


async def test_values_are_checked_against_the_property_type(api: httpx.AsyncClient) -> None:
    bad_number = await api.post("/crm/v3/objects/deals", json={"properties": {"amount": "lots"}})
    assert_error(bad_number, 400, "VALIDATION_ERROR")
    bad_option = await api.post(
        "/crm/v3/objects/deals", json={"properties": {"dealstage": "nearly-won"}}
    )
    assert "INVALID_OPTION" in assert_error(bad_option, 400, "VALIDATION_ERROR")["message"]
    good = await api.post(
        "/crm/v3/objects/deals",
        json={"properties": {"dealstage": "closedwon", "closedate": "1772409600000"}},
    )
    assert good.json()["properties"]["closedate"] == "2026-03-02T00:00:00.000Z"


async def test_archive_is_204_and_hides_the_record(api: httpx.AsyncClient) -> None:
    contact = await create_contact(api, "gone@example.com")
    assert (await api.delete(f"/crm/v3/objects/contacts/{contact}")).status_code == 204
    assert_error(await api.get(f"/crm/v3/objects/contacts/{contact}"), 404, "OBJECT_NOT_FOUND")
    archived = await api.get(f"/crm/v3/objects/contacts/{contact}", params={"archived": "true"})
    assert archived.json()["archived"] is True
    listed = await api.get("/crm/v3/objects/contacts", params={"archived": "true"})
    assert [r["id"] for r in listed.json()["results"]] == [contact]
    # Archiving again, or an id that never existed, is still 204.
    assert (await api.delete(f"/crm/v3/objects/contacts/{contact}")).status_code == 204
    # The email is free again.
    await create_contact(api, "gone@example.com")


async def test_list_pages_until_the_last_page_has_no_paging(
    rig: HubSpotRig, api: httpx.AsyncClient
) -> None:
    ids = rig.sandbox.bulk_load("teelixir", "companies", [{"name": f"Shop {i}"} for i in range(25)])
    seen: list[str] = []
    after: str | None = None
    pages = 0
    while True:
        params = {"limit": "10", **({"after": after} if after else {})}
        body = (await api.get("/crm/v3/objects/companies", params=params)).json()
        pages += 1
        seen.extend(r["id"] for r in body["results"])
        if "paging" not in body:
            break
        after = body["paging"]["next"]["after"]
        assert "after=" + after in body["paging"]["next"]["link"]
    assert pages == 3
    assert seen == ids


async def test_list_limit_defaults_to_10_and_caps_at_100(
    rig: HubSpotRig, api: httpx.AsyncClient
) -> None:
    rig.sandbox.bulk_load("teelixir", "contacts", [{} for _ in range(150)])
    assert len((await api.get("/crm/v3/objects/contacts")).json()["results"]) == 10
    full = (await api.get("/crm/v3/objects/contacts", params={"limit": 100})).json()
    assert len(full["results"]) == 100 and "paging" in full
    too_many = await api.get("/crm/v3/objects/contacts", params={"limit": 101})
    assert_error(too_many, 400, "VALIDATION_ERROR")


async def test_list_on_an_exact_multiple_has_no_paging_on_the_last_page(
    rig: HubSpotRig, api: httpx.AsyncClient
) -> None:
    rig.sandbox.bulk_load("teelixir", "contacts", [{} for _ in range(20)])
    first = (await api.get("/crm/v3/objects/contacts", params={"limit": 10})).json()
    after = first["paging"]["next"]["after"]
    second = await api.get("/crm/v3/objects/contacts", params={"limit": 10, "after": after})
    assert len(second.json()["results"]) == 10
    assert "paging" not in second.json()


async def test_list_properties_may_repeat_or_use_commas(
    rig: HubSpotRig, api: httpx.AsyncClient
) -> None:
    rig.sandbox.bulk_load("teelixir", "products", [{"name": "A", "price": "1", "hs_sku": "S"}])
    query = "properties=price&properties=hs_sku,name"
    body = (await api.get(f"/crm/v3/objects/products?{query}")).json()
    assert {"price", "hs_sku", "name"} <= set(body["results"][0]["properties"])
    assert "description" not in body["results"][0]["properties"]


async def test_ids_are_deterministic_per_seed() -> None:
    async def first_ids(seed: int) -> list[str]:
        made = make_rig(seed=seed)
        async with made.client() as client:
            return [await create_contact(client, f"{i}@example.com") for i in range(3)]

    assert await first_ids(1) == await first_ids(1)
    assert await first_ids(1) != await first_ids(2)


async def test_python_api_reads_what_http_wrote(rig: HubSpotRig, api: httpx.AsyncClient) -> None:
    contact = await create_contact(api, "py@example.com", firstname="Py")
    record = rig.sandbox.get("teelixir", "contacts", contact)
    assert record is not None
    assert record["properties"]["firstname"] == "Py"
    assert rig.sandbox.find("teelixir", "contacts", "email", "PY@example.com") == record
    assert rig.sandbox.count("teelixir", "contacts") == 1
    rig.sandbox.update("teelixir", "contacts", contact, {"lastname": "Thon"})
    fetched = await api.get(f"/crm/v3/objects/contacts/{contact}")
    assert fetched.json()["properties"]["lastname"] == "Thon"
    rig.sandbox.archive("teelixir", "contacts", contact)
    assert rig.sandbox.records("teelixir", "contacts") == []
