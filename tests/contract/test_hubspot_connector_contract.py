"""The project's HubSpot connector against the sandbox over HTTP: the same record work as
the SDK suite (CRUD, batch, upsert, search with paging, v4 associations, properties), and
every request body it sends read by the official SDK's request models with their checks
on, so a field HubSpot's request descriptions require is never missing.
"""

from __future__ import annotations

import pytest
from hubspot_sdk_fixtures import (  # noqa: F401 - fixtures
    V4,
    RecordingTransport,
    as_sdk_model,
    connector_fixture,
    served_fixture,
    unique,
    wire_fixture,
)

from masterops.integrations.base import ErrorCategory, IntegrationError
from masterops.integrations.hubspot import (
    CONTACT_TO_COMPANY,
    AssociationType,
    Filter,
    HubSpotConnector,
    NewAssociation,
    NewObject,
    Sort,
)


async def test_single_record_crud(hubspot: HubSpotConnector, wire: RecordingTransport) -> None:
    email = unique("ccrud") + "@example.com"
    created = await hubspot.create("contacts", {"email": email, "firstname": "Ada"})
    [body] = wire.bodies("POST", "/crm/v3/objects/contacts")
    assert body["associations"] == []  # sent even when empty: the description requires it
    as_sdk_model(body, "SimplePublicObjectInputForCreate")
    assert (await hubspot.get("contacts", email, id_property="email")).id == created.id
    updated = await hubspot.update("contacts", created.id, {"firstname": "Grace"})
    assert updated.get("firstname") == "Grace"
    await hubspot.archive("contacts", created.id)
    with pytest.raises(IntegrationError) as gone:
        await hubspot.get("contacts", created.id)
    assert gone.value.category is ErrorCategory.NOT_FOUND


async def test_batches_and_upsert(hubspot: HubSpotConnector, wire: RecordingTransport) -> None:
    emails = [unique("cb") + "@example.com" for _ in range(3)]
    company = await hubspot.create("companies", {"name": unique("Co")})
    created = await hubspot.batch_create(
        "contacts",
        [
            NewObject({"email": emails[0]}, [NewAssociation(company.id, CONTACT_TO_COMPANY)]),
            {"email": emails[1]},
            {"email": emails[2]},
        ],
    )
    ids = [o.record.id for o in created if o.record is not None]
    assert len(ids) == 3
    read = await hubspot.batch_read("contacts", [*ids, "999999999"], properties=["email"])
    assert [o.ok for o in read] == [True, True, True, False]
    assert read[-1].error is not None and read[-1].error.category is ErrorCategory.NOT_FOUND
    updated = await hubspot.batch_update("contacts", [(i, {"lastname": "X"}) for i in ids])
    assert all(o.ok for o in updated)
    upserted = await hubspot.batch_upsert(
        "contacts",
        [{"email": emails[0], "firstname": "U"}, {"email": unique("cu") + "@example.com"}],
        id_property="email",
    )
    assert all(o.ok for o in upserted)
    archived = await hubspot.batch_archive("contacts", ids)
    assert all(o.ok for o in archived)
    for model, path in (
        ("BatchInputSimplePublicObjectBatchInputForCreate", "/batch/create"),
        ("BatchReadInputSimplePublicObjectId", "/batch/read"),
        ("BatchInputSimplePublicObjectBatchInput", "/batch/update"),
        ("BatchInputSimplePublicObjectBatchInputUpsert", "/batch/upsert"),
        ("BatchInputSimplePublicObjectId", "/batch/archive"),
    ):
        for body in wire.bodies("POST", path):
            as_sdk_model(body, model)


async def test_search_with_paging(hubspot: HubSpotConnector, wire: RecordingTransport) -> None:
    tag = unique("cs")
    await hubspot.batch_create(
        "contacts", [{"email": f"{tag}{n}@example.com", "jobtitle": tag} for n in range(5)]
    )
    found: list[str] = []
    after = None
    while True:
        page = await hubspot.search(
            "contacts",
            Filter.eq("jobtitle", tag),
            properties=["email"],
            sorts=[Sort.asc("email")],
            limit=2,
            after=after,
        )
        found += [r.get("email") or "" for r in page.results]
        if page.after is None:
            break
        after = page.after
    assert found == [f"{tag}{n}@example.com" for n in range(5)]
    bodies = wire.bodies("POST", "/search")
    assert len(bodies) == 3
    assert bodies[0]["after"] == "0"  # the first page, named as HubSpot's description requires
    for body in bodies:
        as_sdk_model(body, "PublicObjectSearchRequest")
        # Every field HubSpot's request description marks required (v12 SDK does not check).
        assert {"filterGroups", "sorts", "properties", "limit", "after"} <= set(body)
        # The documented sort object, not the SDK's bare string.
        assert body["sorts"] == [{"propertyName": "email", "direction": "ASCENDING"}]


async def test_v4_associations(hubspot: HubSpotConnector, wire: RecordingTransport) -> None:
    contact = await hubspot.create("contacts", {"email": unique("ca") + "@example.com"})
    companies = [(await hubspot.create("companies", {"name": unique("Co")})).id for _ in range(3)]
    await hubspot.associate_default("contacts", contact.id, "companies", companies[0])
    await hubspot.associate(
        "contacts", contact.id, "companies", companies[1], [AssociationType.hubspot(1)]
    )
    outcomes = await hubspot.batch_associate_default(
        "contacts", "companies", [(contact.id, companies[2]), (contact.id, "999999999")]
    )
    assert [o.ok for o in outcomes] == [True, False]  # the 200's error item finds its input
    listed = await hubspot.list_associations("contacts", contact.id, "companies")
    assert sorted(a.to_id for a in listed) == sorted(companies)
    [read] = await hubspot.batch_read_associations("companies", "contacts", [companies[1]])
    assert read.record is not None and [a.to_id for a in read.record.associations] == [contact.id]
    removed = await hubspot.batch_remove_associations(
        "contacts", "companies", [(contact.id, companies[2])]
    )
    assert all(o.ok for o in removed)
    left = await hubspot.list_associations("contacts", contact.id, "companies")
    assert sorted(a.to_id for a in left) == sorted(companies[:2])
    for body in wire.bodies("POST", "/batch/associate/default"):
        as_sdk_model(body, "BatchInputPublicDefaultAssociationMultiPost", V4)
    for body in wire.bodies("POST", "/batch/read"):
        as_sdk_model(body, "BatchInputPublicFetchAssociationsBatchRequest", V4)
    for body in wire.bodies("POST", "/batch/archive"):
        as_sdk_model(body, "BatchInputPublicAssociationMultiArchive", V4)


async def test_properties(hubspot: HubSpotConnector) -> None:
    name = unique("cprop_")
    made = await hubspot.ensure_property("products", name, label="Code", unique=True)
    assert made.name == name and made.has_unique_value
    again = await hubspot.ensure_property("products", name, label="Code", unique=True)
    assert again.name == name
    assert name in [p.name for p in await hubspot.list_properties("products")]
