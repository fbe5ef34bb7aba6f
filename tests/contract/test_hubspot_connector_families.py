"""The project's HubSpot connector against the sandbox over HTTP, for the endpoint
families beyond the record work: property update and archive, property groups,
pipelines and stages, owners, v4 association labels, contact merge and v3 associations.
The same shapes and errors the SDK suite proves (``test_hubspot_sdk_schema.py``,
``test_hubspot_sdk_owners_links.py``), and every request body the connector sends read by
the official SDK's request models with their checks on.
"""

from __future__ import annotations

from collections.abc import Awaitable

import hubspot.crm.associations as sdk_v3
import hubspot.crm.associations.v4.schema as sdk_labels
import hubspot.crm.contacts as sdk_contacts
import hubspot.crm.pipelines as sdk_pipelines
import hubspot.crm.properties as sdk_properties
import pytest
from hubspot_sdk_fixtures import (  # noqa: F401 - fixtures
    RecordingTransport,
    as_sdk_model,
    connector_fixture,
    served_fixture,
    unique,
    wire_fixture,
)

from masterops.integrations.base import ErrorCategory, IntegrationError
from masterops.integrations.hubspot import HubSpotConnector, NewStage
from masterops.sync.orders_hubspot import DEAL_STAGES, OPEN_STAGE, PIPELINE


async def _fails(category: ErrorCategory, call: Awaitable[object]) -> IntegrationError:
    """``call`` raises ``IntegrationError`` of ``category``."""
    with pytest.raises(IntegrationError) as failed:
        await call
    assert failed.value.category is category, failed.value
    return failed.value


# --- properties: update and archive -----------------------------------------------------------


async def test_property_update_and_archive(
    hubspot: HubSpotConnector, wire: RecordingTransport
) -> None:
    name = unique("ctier_")
    await hubspot.ensure_property("companies", name, label="Tier")
    changed = await hubspot.update_property(
        "companies",
        name,
        label="Account tier",
        type="enumeration",
        field_type="select",
        options=[("Gold", "gold"), ("Silver", "silver")],
    )
    assert changed.label == "Account tier"
    assert [o.value for o in changed.options] == ["gold", "silver"]
    assert (await hubspot.create("companies", {"name": unique("Co"), name: "silver"})).id
    await hubspot.archive_property("companies", name)
    gone = await _fails(ErrorCategory.NOT_FOUND, hubspot.get_property("companies", name))
    assert gone.status == 404
    archived = await hubspot.list_properties("companies", archived=True)
    assert name in [p.name for p in archived]
    taken = await _fails(
        ErrorCategory.CONFLICT, hubspot.ensure_property("companies", name, label="Again")
    )
    assert taken.status == 409  # an archived name stays taken
    for body in wire.bodies("PATCH", f"/crm/v3/properties/companies/{name}"):
        as_sdk_model(body, "PropertyUpdate", sdk_properties)


async def test_property_errors(hubspot: HubSpotConnector) -> None:
    own = await _fails(
        ErrorCategory.VALIDATION, hubspot.update_property("contacts", "email", label="Mail")
    )
    assert own.status == 400
    kept = await _fails(ErrorCategory.VALIDATION, hubspot.archive_property("contacts", "email"))
    assert kept.status == 400
    unknown = await _fails(
        ErrorCategory.NOT_FOUND, hubspot.update_property("contacts", unique("nope_"), label="X")
    )
    assert unknown.status == 404
    with pytest.raises(ValueError, match="nothing to change"):
        await hubspot.update_property("contacts", "email")


# --- property groups ----------------------------------------------------------------------------


async def test_property_groups(hubspot: HubSpotConnector, wire: RecordingTransport) -> None:
    assert "dealinformation" in [g.name for g in await hubspot.list_property_groups("deals")]
    name = unique("cship_")
    made = await hubspot.create_property_group("deals", name, "Shipping", display_order=3)
    assert (made.name, made.label, made.display_order, made.archived) == (
        name,
        "Shipping",
        3,
        False,
    )
    taken = await _fails(
        ErrorCategory.CONFLICT, hubspot.create_property_group("deals", name, "Again")
    )
    assert taken.status == 409
    renamed = await hubspot.update_property_group("deals", name, label="Freight")
    assert renamed.label == "Freight"
    assert (await hubspot.get_property_group("deals", name)).label == "Freight"
    prop = unique("ccarrier_")
    await hubspot.ensure_property("deals", prop, label="Carrier", group_name=name)
    in_use = await _fails(ErrorCategory.VALIDATION, hubspot.archive_property_group("deals", name))
    assert in_use.status == 400  # it still holds a property
    await hubspot.archive_property("deals", prop)
    await hubspot.archive_property_group("deals", name)
    gone = await _fails(ErrorCategory.NOT_FOUND, hubspot.get_property_group("deals", name))
    assert gone.status == 404
    nosuch = await _fails(
        ErrorCategory.VALIDATION,
        hubspot.ensure_property("contacts", unique("cx_"), label="X", group_name="nosuch"),
    )
    assert "nosuch" in str(nosuch)
    [create] = wire.bodies("POST", "/crm/v3/properties/deals/groups")[:1]
    as_sdk_model(create, "PropertyGroupCreate", sdk_properties)
    for body in wire.bodies("PATCH", f"/groups/{name}"):
        as_sdk_model(body, "PropertyGroupUpdate", sdk_properties)


# --- pipelines and stages -----------------------------------------------------------------------


async def test_default_deal_pipeline(hubspot: HubSpotConnector) -> None:
    pipeline = await hubspot.get_pipeline("deals", PIPELINE)
    ids = [s.id for s in pipeline.stages]
    assert {OPEN_STAGE, *DEAL_STAGES.values()} <= set(ids)
    open_stage = pipeline.stage(OPEN_STAGE)
    assert open_stage is not None and not open_stage.is_closed
    assert all(s.is_closed for s in pipeline.stages if s.id in DEAL_STAGES.values())
    assert PIPELINE in [p.id for p in await hubspot.list_pipelines("deals")]


async def test_pipeline_and_stage_lifecycle(
    hubspot: HubSpotConnector, wire: RecordingTransport
) -> None:
    label = unique("CWholesale ")[:30]
    made = await hubspot.create_pipeline(
        "deals",
        label,
        [
            NewStage("Quoted", 0, {"probability": "0.5"}),
            NewStage("Won", 1, {"probability": "1.0"}),
        ],
        display_order=1,
    )
    assert [s.label for s in made.stages] == ["Quoted", "Won"]
    quoted = made.stages[0].id
    assert (
        await hubspot.create("deals", {"dealname": "D", "pipeline": made.id, "dealstage": quoted})
    ).id
    extra = await hubspot.create_stage(
        "deals", made.id, NewStage("Lost", 2, {"probability": "0.0"})
    )
    assert extra.metadata == {"probability": "0.0", "isClosed": "true"} and extra.is_closed
    renamed = await hubspot.update_stage("deals", made.id, extra.id, label="Gone")
    assert renamed.label == "Gone"
    listed = await hubspot.list_stages("deals", made.id)
    assert [s.id for s in listed] == [quoted, made.stages[1].id, extra.id]
    assert (await hubspot.get_stage("deals", made.id, quoted)).label == "Quoted"
    again = await hubspot.update_pipeline("deals", made.id, label="Renamed " + label[-10:])
    assert again.label.startswith("Renamed")
    await hubspot.archive_stage("deals", made.id, extra.id)
    await _fails(ErrorCategory.NOT_FOUND, hubspot.get_stage("deals", made.id, extra.id))
    await hubspot.archive_pipeline("deals", made.id)
    await _fails(ErrorCategory.NOT_FOUND, hubspot.get_pipeline("deals", made.id))
    refused = await _fails(
        ErrorCategory.VALIDATION, hubspot.create("deals", {"dealname": "E", "dealstage": quoted})
    )
    assert refused.status == 400  # the archived pipeline's stage is no longer a deal stage
    [create] = wire.bodies("POST", "/crm/v3/pipelines/deals")
    as_sdk_model(create, "PipelineInput", sdk_pipelines)
    for body in wire.bodies("POST", "/stages"):
        as_sdk_model(body, "PipelineStageInput", sdk_pipelines)
    for body in wire.bodies("PATCH", f"/crm/v3/pipelines/deals/{made.id}"):
        as_sdk_model(body, "PipelinePatchInput", sdk_pipelines)
    for body in wire.bodies("PATCH", f"/stages/{extra.id}"):
        as_sdk_model(body, "PipelineStagePatchInput", sdk_pipelines)


async def test_pipeline_errors(hubspot: HubSpotConnector) -> None:
    unknown = await _fails(ErrorCategory.NOT_FOUND, hubspot.get_pipeline("deals", "999999"))
    assert unknown.status == 404
    await _fails(ErrorCategory.NOT_FOUND, hubspot.get_stage("deals", PIPELINE, "nosuchstage"))
    empty = await _fails(ErrorCategory.VALIDATION, hubspot.create_pipeline("deals", "Empty", []))
    assert empty.status == 400
    last = await _fails(ErrorCategory.VALIDATION, hubspot.archive_pipeline("deals", PIPELINE))
    assert last.status == 400  # an account keeps one pipeline
    await _fails(ErrorCategory.VALIDATION, hubspot.list_pipelines("contacts"))
    label = unique("CDup ")
    stage = [NewStage("Only", 0, {"probability": "0.1"})]
    made = await hubspot.create_pipeline("deals", label, stage)
    try:
        dup = await _fails(ErrorCategory.CONFLICT, hubspot.create_pipeline("deals", label, stage))
        assert dup.status == 409
    finally:
        await hubspot.archive_pipeline("deals", made.id)


# --- owners -------------------------------------------------------------------------------------


async def test_owners_list_get_and_page(
    hubspot: HubSpotConnector, wire: RecordingTransport
) -> None:
    everyone = await hubspot.list_owners()
    assert len(everyone) >= 2 and all(o.type == "PERSON" and not o.archived for o in everyone)
    assert all(o.teams for o in everyone)
    first = everyone[0]
    assert (await hubspot.get_owner(first.id)).email == first.email
    assert first.user_id is not None
    assert (await hubspot.get_owner(first.user_id, by_user_id=True)).id == first.id
    assert [o.id for o in await hubspot.list_owners(email=first.email)] == [first.id]
    wire.sent.clear()
    paged = await hubspot.list_owners(page_size=1)
    assert [o.id for o in paged] == [o.id for o in everyone]  # every page followed
    assert len(wire.sent) == len(everyone)  # one page per owner, the last without a cursor
    assert all(p == "/crm/v3/owners" for _, p, _ in wire.sent)
    archived = await hubspot.list_owners(archived=True)
    assert archived and all(o.archived for o in archived)
    assert (await hubspot.get_owner(archived[0].id, archived=True)).archived
    missing = await _fails(ErrorCategory.NOT_FOUND, hubspot.get_owner(1))
    assert missing.status == 404
    with pytest.raises(ValueError, match="page_size"):
        await hubspot.list_owners(page_size=501)


# --- association labels -------------------------------------------------------------------------


async def test_association_labels(hubspot: HubSpotConnector, wire: RecordingTransport) -> None:
    before = await hubspot.list_association_labels("contacts", "companies")
    assert {(t.category, t.type_id) for t in before} >= {
        ("HUBSPOT_DEFINED", 279),
        ("HUBSPOT_DEFINED", 1),
    }
    name = unique("cbilling_")
    made = await hubspot.create_association_label(
        "contacts", "companies", name, "Billing contact", inverse_label="Billed company"
    )
    forward = next(t for t in made if t.label == "Billing contact")
    backward = next(t for t in made if t.label == "Billed company")
    assert forward.category == "USER_DEFINED"
    taken = await _fails(
        ErrorCategory.CONFLICT,
        hubspot.create_association_label("contacts", "companies", name, "Again"),
    )
    assert taken.status == 409
    contact = await hubspot.create("contacts", {"email": unique("clbl") + "@example.com"})
    company = await hubspot.create("companies", {"name": unique("Co")})
    await hubspot.associate("contacts", contact.id, "companies", company.id, [forward])
    [back] = await hubspot.list_associations("companies", company.id, "contacts")
    assert [t.label for t in back.types] == ["Billed company"]
    await hubspot.update_association_label("contacts", "companies", forward.type_id, "Payer")
    assert "Payer" in [
        t.label for t in await hubspot.list_association_labels("contacts", "companies")
    ]
    unknown = await _fails(
        ErrorCategory.NOT_FOUND,
        hubspot.update_association_label("contacts", "companies", 99_999, "Nobody"),
    )
    assert unknown.status == 404
    await hubspot.delete_association_label("contacts", "companies", forward.type_id)
    after = await hubspot.list_association_labels("contacts", "companies")
    assert not {forward.type_id, backward.type_id} & {t.type_id for t in after}
    assert await hubspot.list_associations("contacts", contact.id, "companies") == []
    [create] = wire.bodies("POST", "/crm/v4/associations/contacts/companies/labels")[:1]
    as_sdk_model(create, "PublicAssociationDefinitionCreateRequest", sdk_labels)
    for body in wire.bodies("PUT", "/crm/v4/associations/contacts/companies/labels"):
        as_sdk_model(body, "PublicAssociationDefinitionUpdateRequest", sdk_labels)


# --- contact merge ------------------------------------------------------------------------------


async def test_contact_merge(hubspot: HubSpotConnector, wire: RecordingTransport) -> None:
    keep = await hubspot.create(
        "contacts", {"email": unique("ckeep") + "@example.com", "firstname": "Kept"}
    )
    gone = await hubspot.create(
        "contacts",
        {"email": unique("cgone") + "@example.com", "firstname": "Other", "phone": "0400 000 000"},
    )
    company = await hubspot.create("companies", {"name": unique("Co")})
    await hubspot.associate_default("contacts", gone.id, "companies", company.id)
    merged = await hubspot.merge("contacts", keep.id, gone.id)
    assert merged.id == keep.id
    record = await hubspot.get("contacts", keep.id, properties=["firstname", "phone"])
    assert record.get("firstname") == "Kept"  # the primary's own values stay
    assert record.get("phone") == "0400 000 000"  # blanks are filled from the other
    linked = await hubspot.list_associations("contacts", keep.id, "companies")
    assert [a.to_id for a in linked] == [company.id]
    await _fails(ErrorCategory.NOT_FOUND, hubspot.get("contacts", gone.id))
    itself = await _fails(ErrorCategory.VALIDATION, hubspot.merge("contacts", keep.id, keep.id))
    assert itself.status == 400
    unknown = await _fails(ErrorCategory.NOT_FOUND, hubspot.merge("contacts", keep.id, "999999999"))
    assert unknown.status == 404
    for body in wire.bodies("POST", "/crm/v3/objects/contacts/merge"):
        as_sdk_model(body, "PublicMergeInput", sdk_contacts)


# --- v3 associations ----------------------------------------------------------------------------


async def test_v3_associations(hubspot: HubSpotConnector, wire: RecordingTransport) -> None:
    contact = (await hubspot.create("contacts", {"email": unique("cv3") + "@example.com"})).id
    lonely = (await hubspot.create("contacts", {"email": unique("cv3l") + "@example.com"})).id
    company = (await hubspot.create("companies", {"name": unique("Co")})).id
    made = await hubspot.v3_batch_associate(
        "contacts",
        "companies",
        [(contact, company, "contact_to_company"), ("999999999", company, "contact_to_company")],
    )
    assert [o.ok for o in made] == [True, False]
    assert made[0].key == f"{contact}:{company}"
    assert made[1].error is not None and made[1].error.category is ErrorCategory.NOT_FOUND
    read = await hubspot.v3_batch_read_associations(
        "contacts", "companies", [contact, lonely, "999999999"]
    )
    assert [o.ok for o in read] == [True, True, False]
    assert read[0].record is not None
    assert [(a.id, a.type) for a in read[0].record] == [(company, "contact_to_company")]
    assert read[1].record == []  # no associations is an answer, not an error
    assert read[2].error is not None and read[2].error.category is ErrorCategory.NOT_FOUND
    bad_type = await hubspot.v3_batch_associate(
        "contacts", "companies", [(contact, company, "deal_to_contact")]
    )
    assert bad_type[0].error is not None
    assert bad_type[0].error.category is ErrorCategory.VALIDATION
    removed = await hubspot.v3_batch_remove_associations(
        "contacts", "companies", [(contact, company, "contact_to_company")]
    )
    assert all(o.ok for o in removed)
    [again] = await hubspot.v3_batch_read_associations("contacts", "companies", [contact])
    assert again.ok and again.record == []
    v3_bodies = [(p, b) for _, p, b in wire.sent if p.startswith("/crm/v3/associations/")]
    assert len(v3_bodies) == 5  # create, read, create (bad type), archive, read
    for path, body in v3_bodies:
        read_input = path.endswith("/read")
        as_sdk_model(
            body,
            "BatchInputPublicObjectId" if read_input else "BatchInputPublicAssociation",
            sdk_v3,
        )
