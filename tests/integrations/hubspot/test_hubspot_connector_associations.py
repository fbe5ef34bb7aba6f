"""Associations v4: default and labelled links, listing, and the batch forms."""

from __future__ import annotations

import pytest
from hubspot_connector_helpers import BUSINESS, Rig

from masterops.integrations.base import ErrorCategory, IntegrationError
from masterops.integrations.hubspot import (
    CONTACT_TO_COMPANY,
    DEAL_TO_CONTACT,
    DEAL_TO_LINE_ITEM,
    AssociationType,
    HubSpotConnector,
)

V4_BATCH = "/crm/v4/associations/{objectType}/{toObjectType}/batch/"
V4_LIST = "/crm/v4/objects/{objectType}/{objectId}/associations/{toObjectType}"


def load(rig: Rig, object_type: str, n: int, **extra: str) -> list[str]:
    rows = [{**extra, "name": f"{object_type}-{i}"} for i in range(n)]
    if object_type == "contacts":
        rows = [{"email": f"c{i}@example.com"} for i in range(n)]
    if object_type == "deals":
        rows = [{"dealname": f"D{i}"} for i in range(n)]
    return rig.sandbox.bulk_load(BUSINESS, object_type, rows)


async def test_default_association_and_list(rig: Rig, hubspot: HubSpotConnector) -> None:
    [contact] = load(rig, "contacts", 1)
    [company] = load(rig, "companies", 1)
    await rig.run(hubspot.associate_default("contacts", contact, "companies", company))
    [link] = await rig.run(hubspot.list_associations("contacts", contact, "companies"))
    assert link.to_id == company
    assert [t.type_id for t in link.types] == [CONTACT_TO_COMPANY]
    # Both ends know the link.
    [back] = await rig.run(hubspot.list_associations("companies", company, "contacts"))
    assert back.to_id == contact


async def test_labelled_association_and_removal(rig: Rig, hubspot: HubSpotConnector) -> None:
    [deal] = load(rig, "deals", 1)
    [contact] = load(rig, "contacts", 1)
    await rig.run(
        hubspot.associate(
            "deals", deal, "contacts", contact, [AssociationType.hubspot(DEAL_TO_CONTACT)]
        )
    )
    [link] = await rig.run(hubspot.list_associations("deals", deal, "contacts"))
    assert link.types[0].type_id == DEAL_TO_CONTACT
    assert link.types[0].category == "HUBSPOT_DEFINED"
    await rig.run(hubspot.remove_association("deals", deal, "contacts", contact))
    assert await rig.run(hubspot.list_associations("deals", deal, "contacts")) == []


async def test_wrong_type_for_the_pair_is_validation(rig: Rig, hubspot: HubSpotConnector) -> None:
    [deal] = load(rig, "deals", 1)
    [contact] = load(rig, "contacts", 1)
    with pytest.raises(IntegrationError) as caught:
        await rig.run(
            hubspot.associate(
                "deals", deal, "contacts", contact, [AssociationType.hubspot(CONTACT_TO_COMPANY)]
            )
        )
    assert caught.value.category is ErrorCategory.VALIDATION
    with pytest.raises(ValueError, match="at least one association type"):
        await hubspot.associate("deals", deal, "contacts", contact, [])


async def test_missing_record_is_not_found(rig: Rig, hubspot: HubSpotConnector) -> None:
    [contact] = load(rig, "contacts", 1)
    with pytest.raises(IntegrationError) as caught:
        await rig.run(hubspot.associate_default("contacts", contact, "companies", "123456789"))
    assert (caught.value.category, caught.value.status) == (ErrorCategory.NOT_FOUND, 404)
    with pytest.raises(IntegrationError) as listed:
        await rig.run(hubspot.list_associations("contacts", "424242", "companies"))
    assert listed.value.category is ErrorCategory.NOT_FOUND


async def test_list_follows_paging(rig: Rig, hubspot: HubSpotConnector) -> None:
    [contact] = load(rig, "contacts", 1)
    companies = load(rig, "companies", 5)
    for company in companies:
        rig.sandbox.associate(BUSINESS, "contacts", contact, "companies", company)
    links = await rig.run(hubspot.list_associations("contacts", contact, "companies", page_size=2))
    assert [link.to_id for link in links] == companies
    assert rig.harness.call_count(V4_LIST, "GET") == 3


async def test_batch_default_in_chunks_with_a_bad_pair(rig: Rig, hubspot: HubSpotConnector) -> None:
    contacts = load(rig, "contacts", 150)
    [company] = load(rig, "companies", 1)
    pairs = [(c, company) for c in contacts]
    pairs[120] = (contacts[120], "987654321")  # no such company
    outcomes = await rig.run(hubspot.batch_associate_default("contacts", "companies", pairs))
    assert rig.harness.call_count(V4_BATCH + "associate/default", "POST") == 2
    assert [i for i, o in enumerate(outcomes) if not o.ok] == [120]
    error = outcomes[120].error
    assert error is not None and error.category is ErrorCategory.NOT_FOUND
    assert outcomes[0].key == f"{contacts[0]}:{company}"
    assert len(rig.sandbox.associated_ids(BUSINESS, "companies", company, "contacts")) == 149


async def test_batch_labelled_one_deal_to_many_line_items(
    rig: Rig, hubspot: HubSpotConnector
) -> None:
    [deal] = load(rig, "deals", 1)
    items = load(rig, "line_items", 3)
    types = [AssociationType.hubspot(DEAL_TO_LINE_ITEM)]
    links = [(deal, item, types) for item in items] + [(deal, "555", types)]
    outcomes = await rig.run(hubspot.batch_associate("deals", "line_items", links))
    # The error item names only an id (the deal, which every link shares): the links HubSpot
    # answered with a result are ok, only the other one failed.
    assert [o.ok for o in outcomes] == [True, True, True, False]
    assert sorted(rig.sandbox.associated_ids(BUSINESS, "deals", deal, "line_items")) == sorted(
        items
    )


async def test_batch_read_and_remove(rig: Rig, hubspot: HubSpotConnector) -> None:
    contacts = load(rig, "contacts", 3)
    companies = load(rig, "companies", 2)
    rig.sandbox.associate(BUSINESS, "contacts", contacts[0], "companies", companies[0])
    rig.sandbox.associate(BUSINESS, "contacts", contacts[0], "companies", companies[1])
    rig.sandbox.associate(BUSINESS, "contacts", contacts[2], "companies", companies[1])
    outcomes = await rig.run(
        hubspot.batch_read_associations(
            "contacts", "companies", [contacts[2], "31337", contacts[0], contacts[1]]
        )
    )
    assert [o.ok for o in outcomes] == [True, False, True, True]
    found = [[a.to_id for a in o.record.associations] if o.record else None for o in outcomes]
    assert found == [[companies[1]], None, companies, []]
    assert outcomes[1].error is not None
    assert outcomes[1].error.category is ErrorCategory.NOT_FOUND
    removed = await rig.run(
        hubspot.batch_remove_associations(
            "contacts", "companies", [(contacts[0], companies[0]), (contacts[2], companies[1])]
        )
    )
    assert all(o.ok for o in removed)
    assert rig.sandbox.associated_ids(BUSINESS, "contacts", contacts[0], "companies") == [
        companies[1]
    ]
    assert rig.sandbox.associated_ids(BUSINESS, "contacts", contacts[2], "companies") == []
