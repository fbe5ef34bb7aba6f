"""The HubSpot sandbox's schema state (pipelines, property groups, archived properties,
association labels) survives a snapshot, and the fault switches that shape injected
429s refuse bad values."""

from __future__ import annotations

import json

import httpx
import pytest
from hubspot_fixtures import (  # noqa: F401 - fixtures
    HubSpotRig,
    api_fixture,
    make_rig,
    rig_fixture,
)

from masterops_sandbox.faults import FaultConfig
from masterops_sandbox.server import parse_faults


async def _schema_changes(api: httpx.AsyncClient) -> dict[str, str]:
    pipeline = await api.post(
        "/crm/v3/pipelines/deals",
        json={
            "label": "Wholesale",
            "displayOrder": 1,
            "stages": [{"label": "Quoted", "displayOrder": 0, "metadata": {"probability": 0.5}}],
        },
    )
    assert pipeline.status_code == 201, pipeline.text
    group = await api.post(
        "/crm/v3/properties/deals/groups", json={"name": "freight", "label": "Freight"}
    )
    assert group.status_code == 201, group.text
    prop = await api.post(
        "/crm/v3/properties/deals",
        json={
            "name": "carrier",
            "label": "Carrier",
            "type": "string",
            "fieldType": "text",
            "groupName": "freight",
        },
    )
    assert prop.status_code == 201, prop.text
    assert (await api.delete("/crm/v3/properties/deals/carrier")).status_code == 204
    label = await api.post(
        "/crm/v4/associations/contacts/companies/labels",
        json={"label": "Billing", "name": "billing"},
    )
    assert label.status_code == 200, label.text
    return {
        "pipeline": pipeline.json()["id"],
        "stage": pipeline.json()["stages"][0]["id"],
        "label": str(label.json()["results"][0]["typeId"]),
    }


async def test_schema_changes_survive_a_snapshot(rig: HubSpotRig, api: httpx.AsyncClient) -> None:
    made = await _schema_changes(api)
    restored = make_rig()
    restored.sandbox.load_state(json.loads(json.dumps(rig.sandbox.to_state())))
    client = restored.client("teelixir")
    try:
        pipeline = (await client.get(f"/crm/v3/pipelines/deals/{made['pipeline']}")).json()
        assert [s["id"] for s in pipeline["stages"]] == [made["stage"]]
        groups = (await client.get("/crm/v3/properties/deals/groups")).json()["results"]
        assert "freight" in [g["name"] for g in groups]
        archived = (await client.get("/crm/v3/properties/deals?archived=true")).json()["results"]
        assert [p["name"] for p in archived] == ["carrier"]
        labels = (await client.get("/crm/v4/associations/contacts/companies/labels")).json()
        assert made["label"] in [str(t["typeId"]) for t in labels["results"]]
        # The restored portal still takes the new stage as a deal stage.
        deal = await client.post(
            "/crm/v3/objects/deals",
            json={
                "properties": {
                    "dealname": "D",
                    "pipeline": made["pipeline"],
                    "dealstage": made["stage"],
                }
            },
        )
        assert deal.status_code == 201, deal.text
    finally:
        await client.aclose()
        await restored.sandbox.aclose()


async def test_a_re_created_property_does_not_read_an_archived_ones_values(
    rig: HubSpotRig, api: httpx.AsyncClient
) -> None:
    body = {"label": "L", "type": "string", "fieldType": "text", "groupName": "contactinformation"}
    assert (
        await api.post("/crm/v3/properties/contacts", json={**body, "name": "old_one"})
    ).status_code == 201
    made = await api.post(
        "/crm/v3/objects/contacts",
        json={"properties": {"email": "a@example.com", "old_one": "kept"}, "associations": []},
    )
    assert (await api.delete("/crm/v3/properties/contacts/old_one")).status_code == 204
    assert (
        await api.post("/crm/v3/properties/contacts", json={**body, "name": "new_one"})
    ).status_code == 201
    got = await api.get(f"/crm/v3/objects/contacts/{made.json()['id']}?properties=new_one,old_one")
    assert got.json()["properties"]["new_one"] is None
    assert "old_one" not in got.json()["properties"]  # archived: left out of reads


@pytest.mark.parametrize(
    ("switches", "named"),
    [({"retry_after": -1}, "retry_after"), ({"policy_429": "HOURLY"}, "policy_429")],
)
def test_bad_429_switches_are_refused(switches: dict[str, object], named: str) -> None:
    with pytest.raises(ValueError, match=named):
        FaultConfig(**switches).validate()  # type: ignore[arg-type]


def test_retry_after_is_sent_in_whole_seconds() -> None:
    assert FaultConfig(retry_after=0.2).retry_after_seconds() == 1
    assert FaultConfig(retry_after=2.0).retry_after_seconds() == 2
    assert FaultConfig(retry_after=0).retry_after_seconds() == 0
    assert FaultConfig().retry_after_seconds() is None


def test_the_policy_switch_in_a_faults_spec() -> None:
    assert parse_faults("hubspot:rate_429=1,policy_429=daily") == {
        "hubspot": {"rate_429": 1.0, "policy_429": "DAILY"}
    }
    with pytest.raises(ValueError, match="policy_429"):
        parse_faults("hubspot:policy_429=hourly")


async def test_owners_need_their_scope(rig: HubSpotRig, api: httpx.AsyncClient) -> None:
    assert (await api.get("/crm/v3/owners")).status_code == 200
    rig.sandbox.remove_scopes("teelixir", "crm.objects.owners.read")
    response = await api.get("/crm/v3/owners/")
    assert response.status_code == 403
    assert response.json()["category"] == "MISSING_SCOPES"


async def test_owner_and_pipeline_input_errors(api: httpx.AsyncClient) -> None:
    bad_id_property = await api.get("/crm/v3/owners/1?idProperty=email")
    assert bad_id_property.status_code == 400
    assert "idProperty" in bad_id_property.json()["message"]
    too_many = await api.get("/crm/v3/owners?limit=501")
    assert too_many.status_code == 400
    no_probability = await api.post(
        "/crm/v3/pipelines/deals",
        json={"label": "P", "displayOrder": 0, "stages": [{"label": "S", "displayOrder": 0}]},
    )
    assert no_probability.status_code == 400
    assert "metadata" in no_probability.json()["message"]
    long_label = await api.post(
        "/crm/v3/pipelines/deals",
        json={
            "label": "L" * 37,
            "displayOrder": 0,
            "stages": [{"label": "S", "displayOrder": 0, "metadata": {"probability": "0.1"}}],
        },
    )
    assert long_label.status_code == 400
