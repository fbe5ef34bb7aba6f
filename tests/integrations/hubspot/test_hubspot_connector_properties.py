"""Property definitions: list, get, and ``ensure_property`` (create when missing)."""

from __future__ import annotations

import pytest
from hubspot_connector_helpers import BUSINESS, Rig

from masterops.integrations.base import ErrorCategory, IntegrationError
from masterops.integrations.hubspot import HubSpotConnector
from masterops.observability.events import EventRecorder

PROPERTIES = "/crm/v3/properties/{objectType}"
PROPERTY = "/crm/v3/properties/{objectType}/{propertyName}"


async def test_list_and_get(rig: Rig, hubspot: HubSpotConnector) -> None:
    listed = await rig.run(hubspot.list_properties("contacts"))
    by_name = {p.name: p for p in listed}
    assert by_name["email"].has_unique_value
    assert by_name["hs_object_id"].calculated
    email = await rig.run(hubspot.get_property("contacts", "email"))
    assert (email.name, email.type, email.group_name) == ("email", "string", "contactinformation")


async def test_get_missing_property_is_not_found(rig: Rig, hubspot: HubSpotConnector) -> None:
    with pytest.raises(IntegrationError) as caught:
        await rig.run(hubspot.get_property("contacts", "no_such_property"))
    assert (caught.value.category, caught.value.status) == (ErrorCategory.NOT_FOUND, 404)


async def test_ensure_creates_once_then_upserts_by_it(rig: Rig, hubspot: HubSpotConnector) -> None:
    created = await rig.run(
        hubspot.ensure_property("products", "unleashed_guid", label="Unleashed GUID", unique=True)
    )
    assert created.has_unique_value and created.group_name == "productinformation"
    assert rig.harness.call_count(PROPERTIES, "POST") == 1
    again = await rig.run(
        hubspot.ensure_property("products", "unleashed_guid", label="Unleashed GUID", unique=True)
    )
    assert again.name == "unleashed_guid"
    assert rig.harness.call_count(PROPERTIES, "POST") == 1  # looked, found, did not create
    assert rig.harness.call_count(PROPERTY, "GET") == 2
    outcomes = await rig.run(
        hubspot.batch_upsert(
            "products", [{"unleashed_guid": "G-1", "name": "Reishi"}], id_property="unleashed_guid"
        )
    )
    assert outcomes[0].ok and outcomes[0].new


async def test_ensure_treats_409_as_exists(rig: Rig, hubspot: HubSpotConnector) -> None:
    # Another process creates the property between our look and our create.
    rig.sandbox.add_property(BUSINESS, "contacts", "loyalty_id", unique=True)
    rig.sandbox.fail_next(
        404,
        method="GET",
        path_contains="/properties/contacts/loyalty_id",
        category="OBJECT_NOT_FOUND",
    )
    found = await rig.run(
        hubspot.ensure_property("contacts", "loyalty_id", label="Loyalty", unique=True)
    )
    assert found.name == "loyalty_id" and found.has_unique_value
    assert rig.harness.call_count(PROPERTIES, "POST") == 1
    assert rig.harness.call_count(PROPERTY, "GET") == 2


async def test_ensure_refuses_an_existing_property_without_unique_values(
    rig: Rig, hubspot: HubSpotConnector
) -> None:
    with pytest.raises(IntegrationError) as caught:
        await rig.run(hubspot.ensure_property("contacts", "firstname", label="x", unique=True))
    assert caught.value.category is ErrorCategory.CONFLICT


async def test_ensure_with_bad_definition_is_validation(
    rig: Rig, hubspot: HubSpotConnector
) -> None:
    with pytest.raises(IntegrationError) as caught:
        await rig.run(
            hubspot.ensure_property("deals", "odd", label="Odd", type="string", field_type="date")
        )
    assert caught.value.category is ErrorCategory.VALIDATION


async def test_ensure_without_schema_scope_is_authorization(
    rig: Rig, hubspot: HubSpotConnector
) -> None:
    rig.sandbox.remove_scopes(BUSINESS, "crm.schemas.deals.write")
    with pytest.raises(IntegrationError) as caught:
        await rig.run(hubspot.ensure_property("deals", "region", label="Region"))
    assert (caught.value.category, caught.value.status) == (ErrorCategory.AUTHORIZATION, 403)


async def test_a_lookup_that_finds_nothing_is_not_logged_as_a_failure(
    rig: Rig, hubspot: HubSpotConnector, recorder: EventRecorder
) -> None:
    await rig.run(hubspot.ensure_property("products", "unleashed_guid", label="Unleashed GUID"))
    lookups = [e for e in recorder.logs if e.operation == "get_property"]
    assert [(e.level, e.status) for e in lookups] == [("debug", "expected")]
    # The same 404 asked for directly is a failure, as it should be.
    with pytest.raises(IntegrationError):
        await rig.run(hubspot.get_property("contacts", "no_such_property"))
    assert [(e.level, e.status) for e in recorder.logs if e.operation == "get_property"][-1] == (
        "error",
        "failure",
    )
