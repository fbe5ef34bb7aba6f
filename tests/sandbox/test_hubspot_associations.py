"""Associations v4 in the HubSpot sandbox: default and labelled links, reads, batches."""

from __future__ import annotations

import httpx
from hubspot_fixtures import HubSpotRig, api_fixture, assert_error, create_contact, rig_fixture  # noqa: F401 - fixtures

V4 = "/crm/v4/objects"
BATCH = "/crm/v4/associations/{}/{}/batch/{}"


async def _create(api: httpx.AsyncClient, kind: str, **properties: str) -> str:
    response = await api.post(f"/crm/v3/objects/{kind}", json={"properties": properties})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _types(response: httpx.Response) -> dict[int, list[int]]:
    return {
        r["toObjectId"]: sorted(t["typeId"] for t in r["associationTypes"])
        for r in response.json()["results"]
    }


async def test_default_association_is_200_and_readable_from_both_ends(
    api: httpx.AsyncClient,
) -> None:
    contact = await create_contact(api, "a@example.com")
    company = await _create(api, "companies", name="Acme")
    response = await api.put(f"{V4}/contacts/{contact}/associations/default/companies/{company}")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "COMPLETE"
    specs = {r["associationSpec"]["associationTypeId"] for r in body["results"]}
    assert specs == {279, 280}
    forward = await api.get(f"{V4}/contacts/{contact}/associations/companies")
    assert _types(forward) == {int(company): [279]}
    backward = await api.get(f"{V4}/companies/{company}/associations/contacts")
    assert _types(backward) == {int(contact): [280]}
    listed = forward.json()["results"][0]["associationTypes"][0]
    assert listed["category"] == "HUBSPOT_DEFINED"


async def test_labelled_association_is_201(api: httpx.AsyncClient) -> None:
    deal = await _create(api, "deals", dealname="Big order")
    contact = await create_contact(api, "buyer@example.com")
    response = await api.put(
        f"{V4}/deals/{deal}/associations/contacts/{contact}",
        json=[{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 3}],
    )
    assert response.status_code == 201
    assert response.json()["fromObjectId"] == int(deal)
    assert response.json()["toObjectId"] == int(contact)
    from_contact = await api.get(f"{V4}/contacts/{contact}/associations/deals")
    assert _types(from_contact) == {int(deal): [4]}


async def test_wrong_type_id_for_the_pair_is_400(api: httpx.AsyncClient) -> None:
    deal = await _create(api, "deals")
    contact = await create_contact(api, "a@example.com")
    response = await api.put(
        f"{V4}/deals/{deal}/associations/contacts/{contact}",
        json=[{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 279}],
    )
    assert_error(response, 400, "VALIDATION_ERROR")


async def test_missing_side_is_404(api: httpx.AsyncClient) -> None:
    contact = await create_contact(api, "a@example.com")
    missing_to = await api.put(f"{V4}/contacts/{contact}/associations/default/companies/999")
    assert_error(missing_to, 404, "OBJECT_NOT_FOUND")
    company = await _create(api, "companies")
    missing_from = await api.put(f"{V4}/contacts/999/associations/default/companies/{company}")
    assert_error(missing_from, 404, "OBJECT_NOT_FOUND")
    assert_error(
        await api.get(f"{V4}/contacts/999/associations/companies"), 404, "OBJECT_NOT_FOUND"
    )


async def test_deal_links_to_line_items_and_companies(api: httpx.AsyncClient) -> None:
    deal = await _create(api, "deals", dealname="Order 1001")
    items = [await _create(api, "line_items", name=f"Item {i}", quantity="2") for i in range(3)]
    company = await _create(api, "companies", name="Stockist")
    for item in items:
        await api.put(f"{V4}/deals/{deal}/associations/default/line_items/{item}")
    await api.put(f"{V4}/deals/{deal}/associations/default/companies/{company}")
    line_items = await api.get(f"{V4}/deals/{deal}/associations/line_items")
    assert _types(line_items) == {int(i): [19] for i in items}
    companies = await api.get(f"{V4}/deals/{deal}/associations/companies")
    assert _types(companies) == {int(company): [5]}


async def test_remove_association(api: httpx.AsyncClient) -> None:
    contact = await create_contact(api, "a@example.com")
    company = await _create(api, "companies")
    await api.put(f"{V4}/contacts/{contact}/associations/default/companies/{company}")
    response = await api.delete(f"{V4}/contacts/{contact}/associations/companies/{company}")
    assert response.status_code == 204
    assert (await api.get(f"{V4}/companies/{company}/associations/contacts")).json() == {
        "results": []
    }


async def test_archiving_a_record_drops_its_associations(api: httpx.AsyncClient) -> None:
    contact = await create_contact(api, "a@example.com")
    company = await _create(api, "companies")
    await api.put(f"{V4}/contacts/{contact}/associations/default/companies/{company}")
    await api.delete(f"/crm/v3/objects/contacts/{contact}")
    assert (await api.get(f"{V4}/companies/{company}/associations/contacts")).json() == {
        "results": []
    }


async def test_create_with_associations_and_v3_read(api: httpx.AsyncClient) -> None:
    company = await _create(api, "companies", name="Acme")
    response = await api.post(
        "/crm/v3/objects/contacts",
        json={
            "properties": {"email": "new@example.com"},
            "associations": [
                {
                    "to": {"id": company},
                    "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 279}],
                }
            ],
        },
    )
    assert response.status_code == 201
    contact = response.json()["id"]
    read = await api.get(
        f"/crm/v3/objects/contacts/{contact}", params={"associations": "companies"}
    )
    assert read.json()["associations"]["companies"]["results"] == [
        {"id": company, "type": "contact_to_company_unlabeled"}
    ]


async def test_create_with_an_association_to_nothing_is_400(api: httpx.AsyncClient) -> None:
    response = await api.post(
        "/crm/v3/objects/contacts",
        json={
            "properties": {},
            "associations": [
                {
                    "to": {"id": "424242"},
                    "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 279}],
                }
            ],
        },
    )
    assert_error(response, 400, "VALIDATION_ERROR")


async def test_batch_create_read_archive(api: httpx.AsyncClient) -> None:
    deal = await _create(api, "deals")
    items = [await _create(api, "line_items") for _ in range(2)]
    types = [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 19}]
    created = await api.post(
        BATCH.format("deals", "line_items", "create"),
        json={"inputs": [{"from": {"id": deal}, "to": {"id": i}, "types": types} for i in items]},
    )
    assert created.status_code == 201
    assert len(created.json()["results"]) == 2
    read = await api.post(
        BATCH.format("deals", "line_items", "read"), json={"inputs": [{"id": deal}]}
    )
    assert read.status_code == 200
    result = read.json()["results"][0]
    assert result["from"] == {"id": deal}
    assert sorted(t["toObjectId"] for t in result["to"]) == sorted(int(i) for i in items)
    archived = await api.post(
        BATCH.format("deals", "line_items", "archive"),
        json={"inputs": [{"from": {"id": deal}, "to": [{"id": items[0]}]}]},
    )
    assert archived.status_code == 204
    left = await api.get(f"{V4}/deals/{deal}/associations/line_items")
    assert list(_types(left)) == [int(items[1])]
    # As in v4: ``to`` is a list; a single object is refused, and nothing is unlinked.
    refused = await api.post(
        BATCH.format("deals", "line_items", "archive"),
        json={"inputs": [{"from": {"id": deal}, "to": {"id": items[1]}}]},
    )
    assert_error(refused, 400, "VALIDATION_ERROR")
    left = await api.get(f"{V4}/deals/{deal}/associations/line_items")
    assert list(_types(left)) == [int(items[1])]


async def test_batch_associate_default_and_partial_errors(api: httpx.AsyncClient) -> None:
    contact = await create_contact(api, "a@example.com")
    company = await _create(api, "companies")
    response = await api.post(
        BATCH.format("contacts", "companies", "associate/default"),
        json={
            "inputs": [
                {"from": {"id": contact}, "to": {"id": company}},
                {"from": {"id": "5555"}, "to": {"id": company}},
            ]
        },
    )
    # HubSpot describes only a 200 for associate/default: its error items ride in the 200.
    assert response.status_code == 200
    body = response.json()
    assert len(body["results"]) == 2  # both directions of the one link made
    assert body["errors"][0]["category"] == "OBJECT_NOT_FOUND"
    assert body["errors"][0]["context"]["ids"] == ["5555"]
    assert body["errors"][0]["errors"] == [] and body["errors"][0]["links"] == {}


async def test_python_api_associations(rig: HubSpotRig, api: httpx.AsyncClient) -> None:
    contact = await create_contact(api, "a@example.com")
    company = rig.sandbox.create("teelixir", "companies", {"name": "Acme"})
    rig.sandbox.associate("teelixir", "contacts", contact, "companies", company)
    assert rig.sandbox.associated_ids("teelixir", "companies", company, "contacts") == [contact]
    assert rig.harness.state()["portals"]["teelixir"]["associations"] == 2
