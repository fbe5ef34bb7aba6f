"""HubSpot's official Python SDK against the sandbox, over HTTP: owners (and the owners
on seeded records), association labels, contact merge and v3 associations, with the
SDK's model checks on."""

from __future__ import annotations

import pytest
from hubspot import HubSpot
from hubspot.crm.associations import BatchInputPublicAssociation, BatchInputPublicObjectId
from hubspot.crm.associations import PublicAssociation as V3Association
from hubspot.crm.associations import PublicObjectId as V3ObjectId
from hubspot.crm.associations.v4 import AssociationSpec
from hubspot.crm.associations.v4.schema import (
    PublicAssociationDefinitionCreateRequest,
    PublicAssociationDefinitionUpdateRequest,
)
from hubspot.crm.contacts import PublicMergeInput, SimplePublicObjectInputForCreate
from hubspot.crm.owners import ApiException as OwnersApiException
from hubspot_sdk_fixtures import (  # noqa: F401 - fixtures
    BUSINESS,
    ServedHubSpot,
    sdk_fixture,
    served_fixture,
    unique,
)


def _create(sdk: HubSpot, object_type: str, **properties: str) -> str:
    api = getattr(sdk.crm, object_type).basic_api
    made = api.create(SimplePublicObjectInputForCreate(properties=properties, associations=[]))
    return str(made.id)


# --- owners -------------------------------------------------------------------------------------


def test_owners_list_get_and_page(sdk: HubSpot) -> None:
    owners = sdk.crm.owners.owners_api
    everyone = owners.get_page().results
    assert len(everyone) >= 2 and all(o.type == "PERSON" and not o.archived for o in everyone)
    first = everyone[0]
    assert owners.get_by_id(int(first.id)).email == first.email
    assert owners.get_by_id(first.user_id, id_property="userId").id == first.id
    assert [o.id for o in owners.get_page(email=first.email).results] == [first.id]
    page = owners.get_page(limit=1)
    assert page.paging is not None
    assert owners.get_page(limit=1, after=page.paging.next.after).results[0].id == everyone[1].id
    archived = owners.get_page(archived=True).results
    assert archived and all(o.archived for o in archived)
    with pytest.raises(OwnersApiException) as missing:
        owners.get_by_id(1)
    assert missing.value.status == 404


def test_seeded_records_carry_owners(served: ServedHubSpot, sdk: HubSpot) -> None:
    owner_ids = {o.id for o in sdk.crm.owners.owners_api.get_page().results}
    ids = served.sandbox.bulk_load(
        BUSINESS, "deals", [{"dealname": unique("Seed")} for _ in range(4)]
    )
    owners = {
        sdk.crm.deals.basic_api.get_by_id(i, properties=["hubspot_owner_id"]).properties[
            "hubspot_owner_id"
        ]
        for i in ids
    }
    assert owners <= owner_ids and len(owners) > 1  # spread over the owners
    definition = sdk.crm.properties.core_api.get_by_name("deals", "hubspot_owner_id")
    assert {o.value for o in definition.options} == owner_ids
    with pytest.raises(Exception) as refused:  # an owner id that is not an owner
        _create(sdk, "contacts", email=unique("o") + "@example.com", hubspot_owner_id="1")
    assert getattr(refused.value, "status", None) == 400


# --- association labels -------------------------------------------------------------------------


def test_association_labels(sdk: HubSpot) -> None:
    definitions = sdk.crm.associations.v4.schema.definitions_api
    before = definitions.get_all("contacts", "companies").results
    assert {(t.category, t.type_id) for t in before} >= {
        ("HUBSPOT_DEFINED", 279),
        ("HUBSPOT_DEFINED", 1),
    }
    name = unique("billing_")
    made = definitions.create(
        "contacts",
        "companies",
        PublicAssociationDefinitionCreateRequest(
            label="Billing contact", name=name, inverse_label="Billed company"
        ),
    ).results
    forward = next(t for t in made if t.label == "Billing contact")
    assert forward.category == "USER_DEFINED"
    contact = _create(sdk, "contacts", email=unique("lbl") + "@example.com")
    company = _create(sdk, "companies", name=unique("Co"))
    v4 = sdk.crm.associations.v4.basic_api
    linked = v4.create(
        "contacts",
        contact,
        "companies",
        company,
        [AssociationSpec(association_category="USER_DEFINED", association_type_id=forward.type_id)],
    )
    assert linked.labels == ["Billing contact"]
    back = v4.get_page("companies", company, "contacts").results[0]
    assert [t.label for t in back.association_types] == ["Billed company"]
    definitions.update(
        "contacts",
        "companies",
        PublicAssociationDefinitionUpdateRequest(
            association_type_id=forward.type_id, label="Payer"
        ),
    )
    after = definitions.get_all("contacts", "companies").results
    assert "Payer" in [t.label for t in after]
    definitions.remove("contacts", "companies", forward.type_id)
    assert forward.type_id not in [
        t.type_id for t in definitions.get_all("contacts", "companies").results
    ]
    assert v4.get_page("contacts", contact, "companies").results == []


# --- contact merge ------------------------------------------------------------------------------


def test_contact_merge(sdk: HubSpot) -> None:
    keep_email = unique("keep") + "@example.com"
    keep = _create(sdk, "contacts", email=keep_email, firstname="Kept")
    gone_email = unique("gone") + "@example.com"
    gone = _create(sdk, "contacts", email=gone_email, firstname="Other", phone="0400 000 000")
    company = _create(sdk, "companies", name=unique("Co"))
    sdk.crm.associations.v4.basic_api.create_default("contacts", gone, "companies", company)
    merged = sdk.crm.contacts.basic_api.merge(
        PublicMergeInput(primary_object_id=keep, object_id_to_merge=gone)
    )
    assert merged.id == keep
    record = sdk.crm.contacts.basic_api.get_by_id(keep, properties=["email", "firstname", "phone"])
    assert record.properties["firstname"] == "Kept"  # the primary's own values stay
    assert record.properties["phone"] == "0400 000 000"  # blanks are filled from the other
    linked = sdk.crm.associations.v4.basic_api.get_page("contacts", keep, "companies").results
    assert [str(r.to_object_id) for r in linked] == [company]
    with pytest.raises(Exception) as archived:
        sdk.crm.contacts.basic_api.get_by_id(gone)
    assert getattr(archived.value, "status", None) == 404
    with pytest.raises(Exception) as itself:
        sdk.crm.contacts.basic_api.merge(
            PublicMergeInput(primary_object_id=keep, object_id_to_merge=keep)
        )
    assert getattr(itself.value, "status", None) == 400


# --- v3 associations ----------------------------------------------------------------------------


def test_v3_associations_batch_create_read_archive(sdk: HubSpot) -> None:
    v3 = sdk.crm.associations.batch_api
    contact = _create(sdk, "contacts", email=unique("v3") + "@example.com")
    lonely = _create(sdk, "contacts", email=unique("v3l") + "@example.com")
    company = _create(sdk, "companies", name=unique("Co"))
    made = v3.create(
        "contacts",
        "companies",
        BatchInputPublicAssociation(
            inputs=[
                V3Association(
                    _from=V3ObjectId(id=contact),
                    to=V3ObjectId(id=company),
                    type="contact_to_company",
                )
            ]
        ),
    )
    assert made.status == "COMPLETE" and made.results[0].type == "contact_to_company"
    read = v3.read(
        "contacts",
        "companies",
        BatchInputPublicObjectId(inputs=[V3ObjectId(id=contact), V3ObjectId(id=lonely)]),
    )
    assert [(r._from.id, [t.id for t in r.to]) for r in read.results] == [(contact, [company])]
    assert read.num_errors == 1  # the contact with no company is an error item
    v3.archive(
        "contacts",
        "companies",
        BatchInputPublicAssociation(
            inputs=[
                V3Association(
                    _from=V3ObjectId(id=contact),
                    to=V3ObjectId(id=company),
                    type="contact_to_company",
                )
            ]
        ),
    )
    again = v3.read(
        "contacts", "companies", BatchInputPublicObjectId(inputs=[V3ObjectId(id=contact)])
    )
    assert again.results == [] and again.num_errors == 1
