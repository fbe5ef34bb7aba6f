"""Batch operations: split into 100s, partial (207) answers mapped to the right inputs,
whole-chunk failures kept to their chunk, retries only where repeating is safe."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from hubspot_connector_helpers import BATCH, BATCH_READ, BUSINESS, Rig

from masterops.integrations.base import ErrorCategory, IntegrationError
from masterops.integrations.hubspot import (
    CONTACT_TO_COMPANY,
    HubSpotConnector,
    NewAssociation,
    NewObject,
    PropertyValue,
)


def contacts(n: int, start: int = 0) -> list[dict[str, str]]:
    return [{"email": f"c{i}@example.com", "firstname": f"C{i}"} for i in range(start, start + n)]


async def test_250_upserts_take_3_requests(rig: Rig, hubspot: HubSpotConnector) -> None:
    outcomes = await rig.run(hubspot.batch_upsert("contacts", contacts(250), id_property="email"))
    assert rig.harness.call_count(BATCH, "POST") == 3
    assert [o.index for o in outcomes] == list(range(250))
    assert all(o.ok and o.new is True for o in outcomes)
    for i in (0, 99, 100, 249):
        record = outcomes[i].record
        assert record is not None and record.get("email") == f"c{i}@example.com"
        assert outcomes[i].key == f"c{i}@example.com"
    assert rig.sandbox.count(BUSINESS, "contacts") == 250


async def test_upsert_again_updates_and_matches_case_insensitively(
    rig: Rig, hubspot: HubSpotConnector
) -> None:
    await rig.run(hubspot.batch_upsert("contacts", contacts(3), id_property="email"))
    again = [{"email": "C1@EXAMPLE.COM", "firstname": "New"}, {"email": "c9@example.com"}]
    outcomes = await rig.run(hubspot.batch_upsert("contacts", again, id_property="email"))
    assert [(o.ok, o.new) for o in outcomes] == [(True, False), (True, True)]
    first = outcomes[0].record
    assert first is not None and first.get("firstname") == "New"
    assert rig.sandbox.count(BUSINESS, "contacts") == 4


async def test_upsert_is_retried_after_a_server_error(rig: Rig, hubspot: HubSpotConnector) -> None:
    rig.sandbox.fail_next(500, path_contains="batch/upsert")
    outcomes = await rig.run(hubspot.batch_upsert("contacts", contacts(5), id_property="email"))
    assert all(o.ok for o in outcomes)
    assert rig.harness.call_count(BATCH, "POST") == 2


async def test_upsert_needs_the_id_property_in_every_item(hubspot: HubSpotConnector) -> None:
    with pytest.raises(ValueError, match="upsert input 1"):
        await hubspot.batch_upsert(
            "contacts", [{"email": "a@example.com"}, {"firstname": "x"}], id_property="email"
        )


async def test_a_bad_chunk_fails_only_its_own_inputs(rig: Rig, hubspot: HubSpotConnector) -> None:
    items = contacts(150)
    items[120]["email"] = "not-an-email"  # HubSpot refuses the whole batch of 100 it is in
    outcomes = await rig.run(hubspot.batch_upsert("contacts", items, id_property="email"))
    assert all(o.ok for o in outcomes[:100])
    failed = outcomes[100:]
    assert all(not o.ok for o in failed)
    error = failed[0].error
    assert isinstance(error, IntegrationError)
    assert (error.category, error.status) == (ErrorCategory.VALIDATION, 400)
    assert rig.sandbox.count(BUSINESS, "contacts") == 100


async def test_batch_read_maps_missing_ids_to_their_inputs(
    rig: Rig, hubspot: HubSpotConnector
) -> None:
    ids = rig.sandbox.bulk_load(BUSINESS, "contacts", contacts(3))
    wanted = [ids[2], "999999", ids[0], "888888", ids[1]]
    outcomes = await rig.run(hubspot.batch_read("contacts", wanted, properties=["firstname"]))
    assert [o.ok for o in outcomes] == [True, False, True, False, True]
    assert [o.record.id if o.record else None for o in outcomes] == [
        ids[2],
        None,
        ids[0],
        None,
        ids[1],
    ]
    assert outcomes[0].record is not None and outcomes[0].record.get("firstname") == "C2"
    for missing in (outcomes[1], outcomes[3]):
        assert missing.error is not None
        assert missing.error.category is ErrorCategory.NOT_FOUND
        assert missing.error.details["error_type"] == "OBJECT_NOT_FOUND"
    assert [o.key for o in outcomes] == wanted


async def test_batch_read_by_email_over_two_chunks(rig: Rig, hubspot: HubSpotConnector) -> None:
    rig.sandbox.bulk_load(BUSINESS, "contacts", contacts(120))
    wanted = [f"C{i}@Example.com" for i in reversed(range(120))] + ["nobody@example.com"]
    outcomes = await rig.run(hubspot.batch_read("contacts", wanted, id_property="email"))
    assert rig.harness.call_count(BATCH_READ, "POST") == 2
    assert all(o.ok for o in outcomes[:120])
    assert [o.record.get("email") for o in outcomes[:3] if o.record] == [
        "c119@example.com",
        "c118@example.com",
        "c117@example.com",
    ]
    assert not outcomes[120].ok and outcomes[120].error is not None
    assert outcomes[120].error.category is ErrorCategory.NOT_FOUND


async def test_batch_update_with_partial_errors(rig: Rig, hubspot: HubSpotConnector) -> None:
    ids = rig.sandbox.bulk_load(BUSINESS, "contacts", contacts(2))
    outcomes = await rig.run(
        hubspot.batch_update(
            "contacts",
            [
                (ids[1], {"firstname": "B"}),
                ("424242", {"firstname": "X"}),
                (ids[0], {"phone": "7"}),
            ],
        )
    )
    assert [o.ok for o in outcomes] == [True, False, True]
    assert outcomes[0].record is not None and outcomes[0].record.id == ids[1]
    assert outcomes[2].record is not None and outcomes[2].record.id == ids[0]
    assert outcomes[1].error is not None and outcomes[1].error.category is ErrorCategory.NOT_FOUND
    stored = rig.sandbox.get(BUSINESS, "contacts", ids[1])
    assert stored is not None and stored["properties"]["firstname"] == "B"


async def test_batch_update_by_email(rig: Rig, hubspot: HubSpotConnector) -> None:
    ids = rig.sandbox.bulk_load(BUSINESS, "contacts", contacts(2))
    outcomes = await rig.run(
        hubspot.batch_update(
            "contacts", [("c1@example.com", {"lastname": "L"})], id_property="email"
        )
    )
    assert outcomes[0].ok and outcomes[0].record is not None
    assert outcomes[0].record.id == ids[1]


async def test_batch_create_partial_errors_by_trace_id(rig: Rig, hubspot: HubSpotConnector) -> None:
    [company] = rig.sandbox.bulk_load(BUSINESS, "companies", [{"name": "Acme"}])
    items: list[Mapping[str, PropertyValue] | NewObject] = [
        {"email": "a@example.com"},
        NewObject({"email": "b@example.com"}, [NewAssociation("777", CONTACT_TO_COMPANY)]),
        NewObject({"email": "c@example.com"}, [NewAssociation(company, CONTACT_TO_COMPANY)]),
        {"email": "d@example.com"},
    ]
    outcomes = await rig.run(hubspot.batch_create("contacts", items))
    assert [o.ok for o in outcomes] == [True, False, True, True]
    emails = [o.record.get("email") if o.record else None for o in outcomes]
    assert emails == ["a@example.com", None, "c@example.com", "d@example.com"]
    error = outcomes[1].error
    assert error is not None and error.category is ErrorCategory.VALIDATION
    assert "777" in error.message
    c_id = outcomes[2].record.id if outcomes[2].record else ""
    assert rig.sandbox.associated_ids(BUSINESS, "contacts", c_id, "companies") == [company]


async def test_batch_create_conflict_fails_its_chunk_and_is_not_retried(
    rig: Rig, hubspot: HubSpotConnector
) -> None:
    rig.sandbox.bulk_load(BUSINESS, "contacts", [{"email": "c130@example.com"}])
    outcomes = await rig.run(hubspot.batch_create("contacts", contacts(150)))
    assert all(o.ok for o in outcomes[:100])
    assert all(not o.ok for o in outcomes[100:])
    error = outcomes[130].error
    assert error is not None and (error.category, error.status) == (ErrorCategory.CONFLICT, 409)
    assert rig.harness.call_count(BATCH, "POST") == 2
    rig.sandbox.fail_next(503, path_contains="batch/create")
    [lost] = await rig.run(hubspot.batch_create("contacts", [{"email": "z@example.com"}]))
    assert not lost.ok and lost.error is not None
    assert lost.error.category is ErrorCategory.SERVER
    assert rig.harness.call_count(BATCH, "POST") == 3  # not repeated: it may have created


async def test_batch_archive_in_chunks(rig: Rig, hubspot: HubSpotConnector) -> None:
    ids = rig.sandbox.bulk_load(BUSINESS, "deals", [{"dealname": f"D{i}"} for i in range(230)])
    outcomes = await rig.run(hubspot.batch_archive("deals", [*ids[:200], "31337"]))
    assert len(outcomes) == 201 and all(o.ok for o in outcomes)
    assert rig.harness.call_count(BATCH, "POST") == 3
    assert rig.sandbox.count(BUSINESS, "deals") == 30


async def test_empty_batches_make_no_call(rig: Rig, hubspot: HubSpotConnector) -> None:
    assert await hubspot.batch_upsert("contacts", [], id_property="email") == []
    assert await hubspot.batch_read("contacts", []) == []
    assert await hubspot.batch_archive("contacts", []) == []
    assert rig.harness.call_count() == 0


async def test_a_401_fails_every_input(rig: Rig) -> None:
    conn = rig.connector(token="pat-na1-00000000-0000-0000-0000-000000000000")
    outcomes = await rig.run(conn.batch_upsert("contacts", contacts(120), id_property="email"))
    assert len(outcomes) == 120
    assert {o.error.category for o in outcomes if o.error} == {ErrorCategory.AUTHENTICATION}


async def test_chunks_run_concurrently_but_bounded(rig: Rig) -> None:
    conn = rig.connector(batch_concurrency=2)
    outcomes = await rig.run(conn.batch_upsert("contacts", contacts(450), id_property="email"))
    assert all(o.ok for o in outcomes)
    assert rig.harness.call_count(BATCH, "POST") == 5
