"""HubSpot's official Python SDK against the sandbox, over HTTP: the record work (CRUD,
batch, upsert, search with paging, v4 associations, properties create and read).

The SDK runs with its generated models' checks on, so every answer must carry the
fields HubSpot's API descriptions require, in types the SDK can read.
"""

from __future__ import annotations

import pytest
from hubspot import HubSpot
from hubspot.crm.associations.v4 import (
    AssociationSpec,
    BatchInputPublicAssociationMultiPost,
    BatchInputPublicDefaultAssociationMultiPost,
    BatchInputPublicFetchAssociationsBatchRequest,
    PublicAssociationMultiPost,
    PublicDefaultAssociationMultiPost,
    PublicFetchAssociationsBatchRequest,
)
from hubspot.crm.associations.v4 import PublicObjectId as V4ObjectId
from hubspot.crm.contacts import (
    ApiException,
    BatchInputSimplePublicObjectBatchInput,
    BatchInputSimplePublicObjectBatchInputForCreate,
    BatchInputSimplePublicObjectBatchInputUpsert,
    BatchInputSimplePublicObjectId,
    BatchReadInputSimplePublicObjectId,
    Filter,
    FilterGroup,
    PublicObjectSearchRequest,
    SimplePublicObjectBatchInput,
    SimplePublicObjectBatchInputForCreate,
    SimplePublicObjectBatchInputUpsert,
    SimplePublicObjectId,
    SimplePublicObjectInput,
    SimplePublicObjectInputForCreate,
)
from hubspot.crm.properties import ApiException as PropertiesApiException
from hubspot.crm.properties import PropertyCreate
from hubspot_sdk_fixtures import (  # noqa: F401 - fixtures
    ServedHubSpot,
    sdk_fixture,
    served_fixture,
    unique,
)


def _contact(sdk: HubSpot, **properties: str) -> str:
    created = sdk.crm.contacts.basic_api.create(
        SimplePublicObjectInputForCreate(properties=properties, associations=[])
    )
    return str(created.id)


def test_single_record_crud(sdk: HubSpot) -> None:
    email = unique("crud") + "@example.com"
    contact_id = _contact(sdk, email=email, firstname="Ada")
    got = sdk.crm.contacts.basic_api.get_by_id(contact_id, properties=["email", "firstname"])
    assert got.properties["email"] == email and got.properties["firstname"] == "Ada"
    by_email = sdk.crm.contacts.basic_api.get_by_id(email, id_property="email")
    assert by_email.id == contact_id
    updated = sdk.crm.contacts.basic_api.update(
        contact_id, SimplePublicObjectInput(properties={"firstname": "Grace"})
    )
    assert updated.properties["firstname"] == "Grace"
    sdk.crm.contacts.basic_api.archive(contact_id)
    with pytest.raises(ApiException) as missing:
        sdk.crm.contacts.basic_api.get_by_id(contact_id)
    assert missing.value.status == 404


def test_list_pages_until_no_paging(served: ServedHubSpot, sdk: HubSpot) -> None:
    served.sandbox.bulk_load("teelixir", "companies", [{"name": unique("Shop")} for _ in range(7)])
    seen: list[str] = []
    after = None
    while True:
        page = sdk.crm.companies.basic_api.get_page(limit=3, after=after)
        seen += [c.id for c in page.results]
        if page.paging is None:
            break
        after = page.paging.next.after
    assert len(seen) == len(set(seen)) >= 7


def test_batch_create_read_update_upsert_archive(sdk: HubSpot) -> None:
    batch = sdk.crm.contacts.batch_api
    emails = [unique("batch") + "@example.com" for _ in range(3)]
    created = batch.create(
        BatchInputSimplePublicObjectBatchInputForCreate(
            inputs=[
                SimplePublicObjectBatchInputForCreate(properties={"email": e}, associations=[])
                for e in emails
            ]
        )
    )
    assert created.status == "COMPLETE" and len(created.results) == 3
    ids = [r.id for r in created.results]
    read = batch.read(
        BatchReadInputSimplePublicObjectId(
            inputs=[SimplePublicObjectId(id=i) for i in [*ids, "999999999"]],
            properties=["email"],
            properties_with_history=[],
        )
    )
    # A partial answer (207) is read as a batch with errors: each error is a StandardError.
    assert sorted(r.id for r in read.results) == sorted(ids)
    assert read.num_errors == 1 and read.errors[0].context["ids"] == ["999999999"]
    assert read.errors[0].errors == [] and read.errors[0].links == {}
    updated = batch.update(
        BatchInputSimplePublicObjectBatchInput(
            inputs=[SimplePublicObjectBatchInput(id=i, properties={"lastname": "X"}) for i in ids]
        )
    )
    assert {r.properties["lastname"] for r in updated.results} == {"X"}
    fresh = unique("upsert") + "@example.com"
    upserted = batch.upsert(
        BatchInputSimplePublicObjectBatchInputUpsert(
            inputs=[
                SimplePublicObjectBatchInputUpsert(
                    id=e, id_property="email", properties={"firstname": "U"}
                )
                for e in [emails[0], fresh]
            ]
        )
    )
    assert sorted(r.new for r in upserted.results) == [False, True]
    batch.archive(BatchInputSimplePublicObjectId(inputs=[SimplePublicObjectId(id=i) for i in ids]))
    with pytest.raises(ApiException) as gone:
        sdk.crm.contacts.basic_api.get_by_id(ids[0])
    assert gone.value.status == 404


def test_search_pages_with_after(sdk: HubSpot) -> None:
    tag = unique("srch")
    for n in range(5):
        _contact(sdk, email=f"{tag}{n}@example.com", jobtitle=tag)
    found: list[str] = []
    after = None
    while True:
        page = sdk.crm.contacts.search_api.do_search(
            PublicObjectSearchRequest(
                filter_groups=[
                    FilterGroup(
                        filters=[Filter(property_name="jobtitle", operator="EQ", value=tag)]
                    )
                ],
                sorts=["email"],
                properties=["email"],
                limit=2,
                after=after,
            )
        )
        assert page.total == 5
        found += [r.properties["email"] for r in page.results]
        if page.paging is None:
            break
        after = page.paging.next.after
    assert found == [f"{tag}{n}@example.com" for n in range(5)]


def test_v4_associations_single_and_batch(sdk: HubSpot) -> None:
    v4 = sdk.crm.associations.v4
    contact = _contact(sdk, email=unique("v4") + "@example.com")
    companies = [
        sdk.crm.companies.basic_api.create(
            SimplePublicObjectInputForCreate(properties={"name": unique("Co")}, associations=[])
        ).id
        for _ in range(3)
    ]
    made = v4.basic_api.create_default("contacts", contact, "companies", companies[0])
    assert made.status == "COMPLETE"
    labelled = v4.basic_api.create(
        "contacts",
        contact,
        "companies",
        companies[1],
        [AssociationSpec(association_category="HUBSPOT_DEFINED", association_type_id=1)],
    )
    assert labelled.labels == ["Primary"]
    batch = v4.batch_api.create_default(
        "contacts",
        "companies",
        BatchInputPublicDefaultAssociationMultiPost(
            inputs=[
                PublicDefaultAssociationMultiPost(
                    _from=V4ObjectId(id=contact), to=V4ObjectId(id=companies[2])
                )
            ]
        ),
    )
    assert batch.status == "COMPLETE"
    v4.batch_api.create(
        "companies",
        "contacts",
        BatchInputPublicAssociationMultiPost(
            inputs=[
                PublicAssociationMultiPost(
                    _from=V4ObjectId(id=companies[0]),
                    to=V4ObjectId(id=contact),
                    types=[
                        AssociationSpec(
                            association_category="HUBSPOT_DEFINED", association_type_id=2
                        )
                    ],
                )
            ]
        ),
    )
    listed = v4.basic_api.get_page("contacts", contact, "companies")
    assert sorted(str(r.to_object_id) for r in listed.results) == sorted(companies)
    read = v4.batch_api.get_page(
        "contacts",
        "companies",
        BatchInputPublicFetchAssociationsBatchRequest(
            inputs=[PublicFetchAssociationsBatchRequest(id=contact)]
        ),
    )
    assert len(read.results[0].to) == 3
    v4.basic_api.archive("contacts", contact, "companies", companies[2])
    left = v4.basic_api.get_page("contacts", contact, "companies")
    assert sorted(str(r.to_object_id) for r in left.results) == sorted(companies[:2])


def test_properties_create_and_read(sdk: HubSpot) -> None:
    name = unique("code_")
    core = sdk.crm.properties.core_api
    created = core.create(
        "products",
        PropertyCreate(
            name=name,
            label="Code",
            type="string",
            field_type="text",
            group_name="productinformation",
            has_unique_value=True,
        ),
    )
    assert created.name == name and created.has_unique_value is True
    assert core.get_by_name("products", name).label == "Code"
    assert name in [p.name for p in core.get_all("products").results]
    with pytest.raises(PropertiesApiException) as taken:
        core.create(
            "products",
            PropertyCreate(
                name=name,
                label="Again",
                type="string",
                field_type="text",
                group_name="productinformation",
            ),
        )
    assert taken.value.status == 409
