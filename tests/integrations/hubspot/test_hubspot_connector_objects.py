"""Single-record operations against the sandbox: get, iterate, create, update, archive,
and how their failures surface (401, 403, 404, 409, 400, 5xx, 429)."""

from __future__ import annotations

import httpx
import pytest
from hubspot_connector_helpers import BUSINESS, OBJECTS, ONE, Rig

from masterops.integrations.base import ErrorCategory, IntegrationError
from masterops.integrations.hubspot import (
    CONTACT_TO_COMPANY,
    CrmObject,
    HubSpotConnector,
    NewAssociation,
)
from masterops.observability.events import EventRecorder


async def test_get_by_id_and_by_email(rig: Rig, hubspot: HubSpotConnector) -> None:
    [contact_id] = rig.sandbox.bulk_load(
        BUSINESS, "contacts", [{"email": "ann@example.com", "firstname": "Ann"}]
    )
    by_id = await rig.run(hubspot.get("contacts", contact_id, properties=["firstname"]))
    assert isinstance(by_id, CrmObject)
    assert by_id.id == contact_id
    assert by_id.get("firstname") == "Ann"
    assert by_id.get("hs_object_id") == contact_id  # always returned, as a string
    assert by_id.created_at is not None and by_id.created_at.tzinfo is not None
    by_email = await rig.run(hubspot.get("contacts", "ann@example.com", id_property="email"))
    assert by_email.id == contact_id and by_email.get("email") == "ann@example.com"


async def test_get_missing_is_not_found_and_not_retried(
    rig: Rig, hubspot: HubSpotConnector
) -> None:
    with pytest.raises(IntegrationError) as caught:
        await rig.run(hubspot.get("contacts", "999999"))
    error = caught.value
    assert (error.category, error.status, error.retryable) == (ErrorCategory.NOT_FOUND, 404, False)
    assert error.operation == "get_object"
    assert rig.harness.call_count(ONE, "GET") == 1


async def test_iterate_follows_after_until_no_paging(rig: Rig, hubspot: HubSpotConnector) -> None:
    ids = rig.sandbox.bulk_load(BUSINESS, "companies", [{"name": f"Shop {i}"} for i in range(25)])
    seen = await rig.collect(hubspot.iterate("companies", properties=["name"], page_size=10))
    assert [c.id for c in seen] == ids
    assert seen[3].get("name") == "Shop 3"
    assert rig.harness.call_count(OBJECTS, "GET") == 3  # 10 + 10 + 5, the last without paging


async def test_iterate_on_an_empty_type_makes_one_call(rig: Rig, hubspot: HubSpotConnector) -> None:
    assert await rig.collect(hubspot.iterate("deals")) == []
    assert rig.harness.call_count(OBJECTS, "GET") == 1


async def test_iterate_rejects_pages_over_100(hubspot: HubSpotConnector) -> None:
    with pytest.raises(ValueError, match="page_size"):
        await anext(hubspot.iterate("contacts", page_size=101))


async def test_create_with_an_association(rig: Rig, hubspot: HubSpotConnector) -> None:
    [company_id] = rig.sandbox.bulk_load(BUSINESS, "companies", [{"name": "Acme"}])
    created = await rig.run(
        hubspot.create(
            "contacts",
            {"email": "Bob@Example.com", "firstname": "Bob"},
            associations=[NewAssociation(company_id, CONTACT_TO_COMPANY)],
        )
    )
    assert created.get("email") == "bob@example.com"
    stored = rig.sandbox.find(BUSINESS, "contacts", "email", "bob@example.com")
    assert stored is not None and stored["id"] == created.id
    assert rig.sandbox.associated_ids(BUSINESS, "contacts", created.id, "companies") == [company_id]


async def test_create_duplicate_email_is_conflict(rig: Rig, hubspot: HubSpotConnector) -> None:
    rig.sandbox.bulk_load(BUSINESS, "contacts", [{"email": "ann@example.com"}])
    with pytest.raises(IntegrationError) as caught:
        await rig.run(hubspot.create("contacts", {"email": "ann@example.com"}))
    assert (caught.value.category, caught.value.status) == (ErrorCategory.CONFLICT, 409)
    assert "already exists" in caught.value.message


async def test_create_is_not_retried_after_a_server_error(
    rig: Rig, hubspot: HubSpotConnector
) -> None:
    rig.sandbox.fail_next(503, method="POST", path_contains="/objects/contacts")
    with pytest.raises(IntegrationError) as caught:
        await rig.run(hubspot.create("contacts", {"email": "new@example.com"}))
    assert caught.value.category is ErrorCategory.SERVER and caught.value.retryable
    assert rig.harness.call_count(OBJECTS, "POST") == 1  # a repeat could create twice
    assert rig.sandbox.count(BUSINESS, "contacts") == 0


async def test_create_is_retried_after_a_429(rig: Rig, hubspot: HubSpotConnector) -> None:
    # A 429 means HubSpot did nothing, so even a create may go again.
    rig.sandbox.fail_next(429, method="POST", path_contains="/objects/contacts")
    created = await rig.run(hubspot.create("contacts", {"email": "new@example.com"}))
    assert created.get("email") == "new@example.com"
    assert rig.harness.call_count(OBJECTS, "POST") == 2
    assert rig.sandbox.count(BUSINESS, "contacts") == 1


async def test_update_and_clear(rig: Rig, hubspot: HubSpotConnector) -> None:
    [contact_id] = rig.sandbox.bulk_load(
        BUSINESS, "contacts", [{"email": "ann@example.com", "firstname": "Ann", "phone": "1"}]
    )
    updated = await rig.run(
        hubspot.update("contacts", contact_id, {"firstname": "Anne", "phone": ""})
    )
    assert updated.get("firstname") == "Anne"
    stored = rig.sandbox.get(BUSINESS, "contacts", contact_id)
    assert stored is not None
    assert stored["properties"]["firstname"] == "Anne" and "phone" not in stored["properties"]
    by_email = await rig.run(
        hubspot.update("contacts", "ann@example.com", {"lastname": "Lee"}, id_property="email")
    )
    assert by_email.id == contact_id


async def test_update_unknown_property_is_validation(rig: Rig, hubspot: HubSpotConnector) -> None:
    [contact_id] = rig.sandbox.bulk_load(BUSINESS, "contacts", [{"email": "a@example.com"}])
    with pytest.raises(IntegrationError) as caught:
        await rig.run(hubspot.update("contacts", contact_id, {"no_such_property": "x"}))
    assert (caught.value.category, caught.value.status) == (ErrorCategory.VALIDATION, 400)
    assert "no_such_property" in caught.value.message


async def test_update_is_retried_after_a_server_error(rig: Rig, hubspot: HubSpotConnector) -> None:
    [contact_id] = rig.sandbox.bulk_load(BUSINESS, "contacts", [{"email": "a@example.com"}])
    rig.sandbox.fail_next(502, method="PATCH")
    updated = await rig.run(hubspot.update("contacts", contact_id, {"firstname": "A"}))
    assert updated.get("firstname") == "A"
    assert rig.harness.call_count(ONE, "PATCH") == 2


async def test_archive_then_get_is_not_found(rig: Rig, hubspot: HubSpotConnector) -> None:
    [deal_id] = rig.sandbox.bulk_load(BUSINESS, "deals", [{"dealname": "Big"}])
    await rig.run(hubspot.archive("deals", deal_id))
    assert rig.sandbox.count(BUSINESS, "deals") == 0
    await rig.run(hubspot.archive("deals", deal_id))  # 204 again: already gone is fine
    with pytest.raises(IntegrationError) as caught:
        await rig.run(hubspot.get("deals", deal_id))
    assert caught.value.category is ErrorCategory.NOT_FOUND


@pytest.mark.parametrize("object_type", ["products", "line_items"])
async def test_every_object_type(rig: Rig, hubspot: HubSpotConnector, object_type: str) -> None:
    created = await rig.run(hubspot.create(object_type, {"name": "Reishi", "price": 42}))
    fetched = await rig.run(hubspot.get(object_type, created.id, properties=["price"]))
    assert fetched.get("price") == "42"  # every value comes back as a string


async def test_bad_token_is_authentication_and_never_logged(
    rig: Rig, recorder: EventRecorder
) -> None:
    wrong = rig.token("elevate")[:-4] + "0000"
    conn = rig.connector(token=wrong)
    with pytest.raises(IntegrationError) as caught:
        await rig.run(conn.get("contacts", "1"))
    error = caught.value
    assert (error.category, error.status, error.retryable) == (
        ErrorCategory.AUTHENTICATION,
        401,
        False,
    )
    assert rig.harness.call_count() == 1
    text = repr(recorder.events) + str(error) + repr(error.to_dict())
    assert wrong not in text and rig.token() not in text


async def test_missing_scope_is_authorization(rig: Rig, hubspot: HubSpotConnector) -> None:
    rig.sandbox.remove_scopes(BUSINESS, "crm.objects.contacts.write")
    with pytest.raises(IntegrationError) as caught:
        await rig.run(hubspot.create("contacts", {"email": "a@example.com"}))
    assert (caught.value.category, caught.value.status) == (ErrorCategory.AUTHORIZATION, 403)
    # Reading still works: only the write scope went.
    assert await rig.collect(hubspot.iterate("contacts")) == []


async def test_the_token_goes_only_in_the_authorization_header(rig: Rig) -> None:
    seen: list[tuple[str, str | None]] = []

    async def capture(request: httpx.Request) -> None:
        seen.append((str(request.url), request.headers.get("authorization")))

    conn = rig.connector()
    conn._client.event_hooks["request"].append(capture)
    rig.sandbox.bulk_load(BUSINESS, "contacts", [{"email": "x@example.com"}])
    await rig.run(conn.get("contacts", "x@example.com", id_property="email"))
    [(url, header)] = seen
    assert header == f"Bearer {rig.token()}"
    assert rig.token() not in url
