"""HubSpot's official Python SDK against the sandbox, over HTTP: the schema endpoints an
operator's scripts use beyond the record work. Property updates and archiving, property
groups, pipelines and stages (owners, labels, merge and v3 associations are in
``test_hubspot_sdk_owners_links.py``). Each is checked for its shape (the SDK's models,
with their checks on), its documented statuses and its errors.
"""

from __future__ import annotations

import pytest
from hubspot import HubSpot
from hubspot.crm.contacts import SimplePublicObjectInputForCreate
from hubspot.crm.pipelines import ApiException as PipelinesApiException
from hubspot.crm.pipelines import (
    PipelineInput,
    PipelinePatchInput,
    PipelineStageInput,
    PipelineStagePatchInput,
)
from hubspot.crm.properties import ApiException as PropertiesApiException
from hubspot.crm.properties import (
    PropertyCreate,
    PropertyGroupCreate,
    PropertyGroupUpdate,
    PropertyUpdate,
)
from hubspot_sdk_fixtures import (  # noqa: F401 - fixtures
    BUSINESS,
    ServedHubSpot,
    sdk_fixture,
    served_fixture,
    unique,
)

from masterops.sync.orders_hubspot import DEAL_STAGES, OPEN_STAGE, PIPELINE


def _create(sdk: HubSpot, object_type: str, **properties: str) -> str:
    api = getattr(sdk.crm, object_type).basic_api
    made = api.create(SimplePublicObjectInputForCreate(properties=properties, associations=[]))
    return str(made.id)


# --- properties: update and archive -----------------------------------------------------------


def test_property_update_and_archive(sdk: HubSpot) -> None:
    core = sdk.crm.properties.core_api
    name = unique("tier_")
    core.create(
        "companies",
        PropertyCreate(
            name=name,
            label="Tier",
            type="enumeration",
            field_type="select",
            group_name="companyinformation",
            options=[{"label": "Gold", "value": "gold"}],
        ),
    )
    changed = core.update(
        "companies",
        name,
        PropertyUpdate(
            label="Account tier",
            options=[{"label": "Gold", "value": "gold"}, {"label": "Silver", "value": "silver"}],
        ),
    )
    assert changed.label == "Account tier"
    assert [o.value for o in changed.options] == ["gold", "silver"]
    _create(sdk, "companies", name=unique("Co"), **{name: "silver"})  # the new option is usable
    core.archive("companies", name)
    with pytest.raises(PropertiesApiException) as gone:
        core.get_by_name("companies", name)
    assert gone.value.status == 404
    assert name in [p.name for p in core.get_all("companies", archived=True).results]
    with pytest.raises(PropertiesApiException) as taken:  # an archived name stays taken
        core.create(
            "companies",
            PropertyCreate(
                name=name,
                label="T",
                type="string",
                field_type="text",
                group_name="companyinformation",
            ),
        )
    assert taken.value.status == 409


def test_hubspot_defined_properties_refuse_change_and_archive(sdk: HubSpot) -> None:
    core = sdk.crm.properties.core_api
    with pytest.raises(PropertiesApiException) as refused:
        core.update("contacts", "email", PropertyUpdate(label="Mail"))
    assert refused.value.status == 400
    with pytest.raises(PropertiesApiException) as kept:
        core.archive("contacts", "email")
    assert kept.value.status == 400
    with pytest.raises(PropertiesApiException) as unknown:
        core.update("contacts", unique("nope_"), PropertyUpdate(label="X"))
    assert unknown.value.status == 404


# --- property groups ----------------------------------------------------------------------------


def test_property_groups(sdk: HubSpot) -> None:
    groups = sdk.crm.properties.groups_api
    assert "dealinformation" in [g.name for g in groups.get_all("deals").results]
    name = unique("shipping_")
    made = groups.create("deals", PropertyGroupCreate(name=name, label="Shipping", display_order=3))
    assert (made.name, made.label, made.display_order, made.archived) == (
        name,
        "Shipping",
        3,
        False,
    )
    with pytest.raises(PropertiesApiException) as taken:
        groups.create("deals", PropertyGroupCreate(name=name, label="Again"))
    assert taken.value.status == 409
    assert groups.update("deals", name, PropertyGroupUpdate(label="Freight")).label == "Freight"
    assert groups.get_by_name("deals", name).label == "Freight"
    prop = unique("carrier_")
    sdk.crm.properties.core_api.create(
        "deals",
        PropertyCreate(
            name=prop, label="Carrier", type="string", field_type="text", group_name=name
        ),
    )
    with pytest.raises(PropertiesApiException) as in_use:  # it still holds a property
        groups.archive("deals", name)
    assert in_use.value.status == 400
    sdk.crm.properties.core_api.archive("deals", prop)
    groups.archive("deals", name)
    with pytest.raises(PropertiesApiException) as gone:
        groups.get_by_name("deals", name)
    assert gone.value.status == 404


def test_a_property_needs_an_existing_group(sdk: HubSpot) -> None:
    with pytest.raises(PropertiesApiException) as refused:
        sdk.crm.properties.core_api.create(
            "contacts",
            PropertyCreate(
                name=unique("x_"), label="X", type="string", field_type="text", group_name="nosuch"
            ),
        )
    assert refused.value.status == 400
    assert "nosuch" in refused.value.body


# --- pipelines and stages -----------------------------------------------------------------------


def test_default_deal_pipeline_has_the_stages_the_orders_sync_writes(sdk: HubSpot) -> None:
    pipeline = sdk.crm.pipelines.pipelines_api.get_by_id("deals", PIPELINE)
    stage_ids = [s.id for s in pipeline.stages]
    assert {OPEN_STAGE, *DEAL_STAGES.values()} <= set(stage_ids)
    closed = {s.id: s.metadata["isClosed"] for s in pipeline.stages}
    assert closed[OPEN_STAGE] == "false"
    assert {closed[s] for s in DEAL_STAGES.values()} == {"true"}
    assert [p.id for p in sdk.crm.pipelines.pipelines_api.get_all("deals").results] == [PIPELINE]


def test_pipeline_and_stage_lifecycle_drive_the_deal_properties(sdk: HubSpot) -> None:
    pipelines = sdk.crm.pipelines.pipelines_api
    stages = sdk.crm.pipelines.pipeline_stages_api
    label = unique("Wholesale ")[:30]
    made = pipelines.create(
        "deals",
        PipelineInput(
            label=label,
            display_order=1,
            stages=[
                PipelineStageInput(
                    label="Quoted", display_order=0, metadata={"probability": "0.5"}
                ),
                PipelineStageInput(label="Won", display_order=1, metadata={"probability": "1.0"}),
            ],
        ),
    )
    assert [s.label for s in made.stages] == ["Quoted", "Won"]
    quoted = made.stages[0].id
    deal = _create(sdk, "deals", dealname="D", pipeline=made.id, dealstage=quoted)
    assert deal
    extra = stages.create(
        "deals",
        made.id,
        PipelineStageInput(label="Lost", display_order=2, metadata={"probability": "0.0"}),
    )
    assert extra.metadata == {"probability": "0.0", "isClosed": "true"}
    assert stages.update(
        "deals", made.id, extra.id, PipelineStagePatchInput(label="Gone")
    ).label == ("Gone")
    assert [s.id for s in stages.get_all("deals", made.id).results] == [
        quoted,
        made.stages[1].id,
        extra.id,
    ]
    assert (
        pipelines.update("deals", made.id, PipelinePatchInput(label="Renamed")).label == "Renamed"
    )
    stages.archive("deals", made.id, extra.id)
    with pytest.raises(PipelinesApiException) as no_stage:
        stages.get_by_id("deals", made.id, extra.id)
    assert no_stage.value.status == 404
    pipelines.archive("deals", made.id)
    with pytest.raises(PipelinesApiException) as no_pipeline:
        pipelines.get_by_id("deals", made.id)
    assert no_pipeline.value.status == 404
    # The archived pipeline's stage is no longer a deal stage.
    with pytest.raises(Exception) as refused:
        _create(sdk, "deals", dealname="E", dealstage=quoted)
    assert getattr(refused.value, "status", None) == 400


def test_pipeline_errors(sdk: HubSpot) -> None:
    pipelines = sdk.crm.pipelines.pipelines_api
    with pytest.raises(PipelinesApiException) as no_stages:
        pipelines.create("deals", PipelineInput(label="Empty", display_order=0, stages=[]))
    assert no_stages.value.status == 400
    with pytest.raises(PipelinesApiException) as last:  # an account keeps one pipeline
        pipelines.archive("deals", PIPELINE)
    assert last.value.status == 400
    with pytest.raises(PipelinesApiException) as not_deals:
        pipelines.get_all("contacts")
    assert not_deals.value.status == 400
