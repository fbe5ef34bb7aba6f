"""Batch routes of the HubSpot sandbox: caps, envelopes, 207 partial results, upsert."""

from __future__ import annotations

import httpx
import pytest
from hubspot_fixtures import HubSpotRig, api_fixture, assert_error, create_contact, rig_fixture  # noqa: F401 - fixtures

BATCH = "/crm/v3/objects/{}/batch/{}"


@pytest.mark.parametrize("action", ["create", "read", "update", "upsert", "archive"])
async def test_more_than_100_inputs_is_400(api: httpx.AsyncClient, action: str) -> None:
    inputs = [{"id": str(i), "properties": {}} for i in range(101)]
    response = await api.post(BATCH.format("contacts", action), json={"inputs": inputs})
    body = assert_error(response, 400, "VALIDATION_ERROR")
    assert body["message"].startswith("The maximum number of inputs supported in a batch is 100.")


async def test_exactly_100_inputs_is_fine(api: httpx.AsyncClient) -> None:
    inputs = [{"properties": {"name": f"P{i}"}} for i in range(100)]
    response = await api.post(BATCH.format("products", "create"), json={"inputs": inputs})
    assert response.status_code == 201
    assert len(response.json()["results"]) == 100


async def test_create_envelope(api: httpx.AsyncClient) -> None:
    inputs = [{"properties": {"email": f"{i}@example.com"}} for i in range(3)]
    response = await api.post(BATCH.format("contacts", "create"), json={"inputs": inputs})
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "COMPLETE"
    assert body["startedAt"] and body["completedAt"]
    assert "errors" not in body and "numErrors" not in body
    assert sorted(r["properties"]["email"] for r in body["results"]) == [
        "0@example.com",
        "1@example.com",
        "2@example.com",
    ]


async def test_create_with_an_existing_email_fails_the_whole_batch(
    rig: HubSpotRig, api: httpx.AsyncClient
) -> None:
    existing = await create_contact(api, "taken@example.com")
    inputs = [
        {"properties": {"email": "new@example.com"}},
        {"properties": {"email": "taken@example.com"}},
    ]
    response = await api.post(BATCH.format("contacts", "create"), json={"inputs": inputs})
    body = assert_error(response, 409, "CONFLICT")
    assert body["message"] == f"Contact already exists. Existing ID: {existing}"
    assert rig.sandbox.count("teelixir", "contacts") == 1  # nothing was written


async def test_create_with_an_invalid_property_fails_the_whole_batch(
    rig: HubSpotRig, api: httpx.AsyncClient
) -> None:
    inputs = [{"properties": {"name": "ok"}}, {"properties": {"colour": "red"}}]
    response = await api.post(BATCH.format("products", "create"), json={"inputs": inputs})
    assert_error(response, 400, "VALIDATION_ERROR")
    assert rig.sandbox.count("teelixir", "products") == 0


async def test_create_with_a_missing_association_target_is_207(api: httpx.AsyncClient) -> None:
    company = (await api.post("/crm/v3/objects/companies", json={"properties": {}})).json()["id"]
    association = {"types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 279}]}
    inputs = [
        {
            "properties": {"email": "a@example.com"},
            "associations": [{**association, "to": {"id": company}}],
        },
        {
            "properties": {"email": "b@example.com"},
            "associations": [{**association, "to": {"id": "999"}}],
            "objectWriteTraceId": "b",
        },
    ]
    response = await api.post(BATCH.format("contacts", "create"), json={"inputs": inputs})
    assert response.status_code == 207
    body = response.json()
    assert [r["properties"]["email"] for r in body["results"]] == ["a@example.com"]
    assert body["numErrors"] == 1
    assert body["errors"][0]["status"] == "error"
    assert body["errors"][0]["context"] == {"ids": ["b"]}


async def test_read_returns_207_with_the_missing_ids(api: httpx.AsyncClient) -> None:
    first = await create_contact(api, "a@example.com", firstname="A")
    second = await create_contact(api, "b@example.com", firstname="B")
    response = await api.post(
        BATCH.format("contacts", "read"),
        json={
            "inputs": [{"id": first}, {"id": "404404"}, {"id": second}],
            "properties": ["firstname"],
        },
    )
    assert response.status_code == 207
    body = response.json()
    assert body["status"] == "COMPLETE"
    assert [r["id"] for r in body["results"]] == [first, second]
    assert body["results"][0]["properties"]["firstname"] == "A"
    assert body["numErrors"] == 1
    error = body["errors"][0]
    assert error["status"] == "error"
    assert error["category"] == "OBJECT_NOT_FOUND"
    assert error["message"].startswith(
        "Could not get some CONTACT objects, they may be deleted or not exist"
    )
    assert error["context"] == {"ids": ["404404"]}


async def test_read_all_found_is_200(api: httpx.AsyncClient) -> None:
    contact = await create_contact(api, "a@example.com")
    response = await api.post(BATCH.format("contacts", "read"), json={"inputs": [{"id": contact}]})
    assert response.status_code == 200
    assert "errors" not in response.json()


async def test_read_by_id_property(api: httpx.AsyncClient) -> None:
    contact = await create_contact(api, "a@example.com")
    response = await api.post(
        BATCH.format("contacts", "read"),
        json={"idProperty": "email", "inputs": [{"id": "a@example.com"}], "properties": []},
    )
    assert [r["id"] for r in response.json()["results"]] == [contact]


async def test_update_partial_is_207(api: httpx.AsyncClient) -> None:
    contact = await create_contact(api, "a@example.com")
    inputs = [
        {"id": contact, "properties": {"firstname": "New"}},
        {"id": "777", "properties": {"firstname": "Ghost"}},
    ]
    response = await api.post(BATCH.format("contacts", "update"), json={"inputs": inputs})
    assert response.status_code == 207
    body = response.json()
    assert body["results"][0]["properties"]["firstname"] == "New"
    assert body["errors"][0]["context"]["ids"] == ["777"]


async def test_update_all_found_is_200(api: httpx.AsyncClient) -> None:
    contact = await create_contact(api, "a@example.com")
    inputs = [{"id": contact, "properties": {"lastname": "L"}}]
    response = await api.post(BATCH.format("contacts", "update"), json={"inputs": inputs})
    assert response.status_code == 200


async def test_update_rejects_duplicate_ids(api: httpx.AsyncClient) -> None:
    contact = await create_contact(api, "a@example.com")
    inputs = [{"id": contact, "properties": {}}, {"id": contact, "properties": {}}]
    response = await api.post(BATCH.format("contacts", "update"), json={"inputs": inputs})
    assert_error(response, 400, "VALIDATION_ERROR")


async def test_upsert_marks_new_and_existing(rig: HubSpotRig, api: httpx.AsyncClient) -> None:
    existing = await create_contact(api, "old@example.com", firstname="Old")
    inputs = [
        {"id": "old@example.com", "idProperty": "email", "properties": {"firstname": "Older"}},
        {"id": "new@example.com", "idProperty": "email", "properties": {"firstname": "New"}},
    ]
    response = await api.post(BATCH.format("contacts", "upsert"), json={"inputs": inputs})
    assert response.status_code == 200
    results = {r["properties"]["email"]: r for r in response.json()["results"]}
    assert results["old@example.com"]["new"] is False
    assert results["old@example.com"]["id"] == existing
    assert results["old@example.com"]["properties"]["firstname"] == "Older"
    assert results["new@example.com"]["new"] is True
    assert rig.sandbox.count("teelixir", "contacts") == 2
    # Running the same upsert again creates nothing: it is idempotent.
    again = await api.post(BATCH.format("contacts", "upsert"), json={"inputs": inputs})
    assert all(r["new"] is False for r in again.json()["results"])
    assert rig.sandbox.count("teelixir", "contacts") == 2


async def test_upsert_needs_a_unique_id_property(api: httpx.AsyncClient) -> None:
    inputs = [{"id": "Ann", "idProperty": "firstname", "properties": {}}]
    response = await api.post(BATCH.format("contacts", "upsert"), json={"inputs": inputs})
    body = assert_error(response, 400, "VALIDATION_ERROR")
    assert "non-unique" in body["message"]
    no_property = await api.post(
        BATCH.format("contacts", "upsert"), json={"inputs": [{"id": "1", "properties": {}}]}
    )
    assert_error(no_property, 400, "VALIDATION_ERROR")


async def test_archive_is_204_and_ignores_missing_ids(
    rig: HubSpotRig, api: httpx.AsyncClient
) -> None:
    contact = await create_contact(api, "a@example.com")
    response = await api.post(
        BATCH.format("contacts", "archive"), json={"inputs": [{"id": contact}, {"id": "999"}]}
    )
    assert response.status_code == 204
    assert response.content == b""
    assert rig.sandbox.count("teelixir", "contacts") == 0


async def test_batch_read_needs_only_the_read_scope(
    rig: HubSpotRig, api: httpx.AsyncClient
) -> None:
    contact = await create_contact(api, "a@example.com")
    rig.sandbox.remove_scopes("teelixir", "crm.objects.contacts.write")
    read = await api.post(BATCH.format("contacts", "read"), json={"inputs": [{"id": contact}]})
    assert read.status_code == 200
    update = await api.post(BATCH.format("contacts", "update"), json={"inputs": []})
    assert_error(update, 403, "MISSING_SCOPES")
