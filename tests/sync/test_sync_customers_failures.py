"""``sync_customers`` when things break: a failed or interrupted run is recorded, keeps
the old watermark, and the rerun ends with every customer stored and sent exactly once."""

from __future__ import annotations

import pytest
from customers_helpers import (
    BUSINESS,
    PAGE_SIZE,
    InventoryRig,
    contacts,
    customer_count,
    inventory_rig,
    runs,
    sendable,
    stored_customers,
    watermark,
)
from sqlalchemy import Engine

from masterops.integrations.base import ErrorCategory, IntegrationError
from masterops.sync.customers import sync_customers


def assert_complete_once(rig: InventoryRig, engine: Engine) -> None:
    """Every customer stored once; every distinct sendable email in HubSpot once."""
    everyone = rig.unleashed_sandbox.customers(BUSINESS)
    assert set(stored_customers(engine)) == {c.guid.lower() for c in everyone}
    assert customer_count(engine) == len(everyone)
    emails = {(c.email or "").strip().lower() for c in sendable(rig)}
    in_hubspot = [r["properties"]["email"] for r in contacts(rig)]
    assert sorted(in_hubspot) == sorted(emails)


async def test_a_run_failing_on_a_page_is_redone_by_the_rerun(engine: Engine) -> None:
    async with inventory_rig() as rig:
        unleashed, hubspot = rig.unleashed(), rig.hubspot()
        # Page 1 arrives; page 2 keeps failing past the retries.
        rig.unleashed_harness.faults.configure(rate_5xx=1.0, path_pattern=r"^/Customers/2$")

        with pytest.raises(IntegrationError) as failed:
            await sync_customers(
                unleashed, engine, business_id=BUSINESS, hubspot=hubspot, page_size=PAGE_SIZE
            )

        assert failed.value.category is ErrorCategory.SERVER
        [run] = runs(engine)
        assert run["status"] == "failed"
        assert run["error_message"].startswith("customers stage: ")
        assert run["details_json"]["customers_written"] == PAGE_SIZE
        assert watermark(engine) is None
        assert customer_count(engine) == PAGE_SIZE
        assert contacts(rig) == []  # the run never reached HubSpot
        assert [e.level for e in rig.recorder.logs if e.operation == "sync_customers"] == ["error"]

        rig.unleashed_harness.faults.reset()
        rerun = await sync_customers(
            unleashed, engine, business_id=BUSINESS, hubspot=hubspot, page_size=PAGE_SIZE
        )

        assert rerun.status == "succeeded" and rerun.watermark_before is None
        assert [r["status"] for r in runs(engine)] == ["failed", "succeeded"]
        assert_complete_once(rig, engine)


async def test_a_failed_incremental_run_keeps_the_watermark(engine: Engine) -> None:
    async with inventory_rig() as rig:
        unleashed, hubspot = rig.unleashed(), rig.hubspot()
        first = await sync_customers(unleashed, engine, business_id=BUSINESS, hubspot=hubspot)
        customer = sendable(rig)[0]
        rig.unleashed_sandbox.update_customer(BUSINESS, customer.code, last_name="Changed")
        rig.unleashed_harness.faults.configure(rate_5xx=1.0, path_pattern=r"^/Customers")

        with pytest.raises(IntegrationError):
            await sync_customers(unleashed, engine, business_id=BUSINESS, hubspot=hubspot)

        assert watermark(engine) == first.watermark_after
        assert runs(engine)[-1]["watermark_after"] == first.watermark_after

        rig.unleashed_harness.faults.reset()
        rerun = await sync_customers(unleashed, engine, business_id=BUSINESS, hubspot=hubspot)

        assert rerun.watermark_before == first.watermark_after
        assert rerun.counts["customers_written"] == 1
        assert stored_customers(engine)[customer.guid.lower()]["last_name"] == "Changed"
        assert_complete_once(rig, engine)


async def test_a_hubspot_401_fails_the_run_and_the_rerun_creates_no_duplicates(
    engine: Engine,
) -> None:
    async with inventory_rig() as rig:
        unleashed, hubspot = rig.unleashed(), rig.hubspot()
        rig.hubspot_sandbox.fail_next(
            401, path_contains="/batch/upsert", category="INVALID_AUTHENTICATION"
        )

        with pytest.raises(IntegrationError) as failed:
            await sync_customers(unleashed, engine, business_id=BUSINESS, hubspot=hubspot)

        assert failed.value.category is ErrorCategory.AUTHENTICATION
        [run] = runs(engine)
        assert run["status"] == "failed"
        assert run["error_message"].startswith("hubspot stage: ")
        assert watermark(engine) is None
        assert all(row["hubspot_id"] is None for row in stored_customers(engine).values())

        rerun = await sync_customers(unleashed, engine, business_id=BUSINESS, hubspot=hubspot)

        assert rerun.counts["hubspot_failed"] == 0
        assert_complete_once(rig, engine)
        # And once more with everything resent: HubSpot still holds each contact once.
        again = await sync_customers(
            unleashed, engine, business_id=BUSINESS, hubspot=hubspot, full=True
        )
        assert (
            again.counts["hubspot_created"] == 0
            and again.counts["hubspot_upserted"] == rerun.counts["hubspot_upserted"]
        )
        assert_complete_once(rig, engine)


async def test_refused_contacts_are_counted_and_resent_by_the_next_run(engine: Engine) -> None:
    async with inventory_rig() as rig:
        unleashed, hubspot = rig.unleashed(), rig.hubspot()
        emails = {(c.email or "").strip().lower() for c in sendable(rig)}
        # A 400 refuses the whole batch: each of its contacts is an item failure.
        rig.hubspot_sandbox.fail_next(400, path_contains="/batch/upsert")

        first = await sync_customers(unleashed, engine, business_id=BUSINESS, hubspot=hubspot)

        assert first.status == "succeeded" and not first.ok
        assert first.counts["hubspot_failed"] == len(emails)
        assert runs(engine)[-1]["failed"] == len(emails)
        assert watermark(engine) == first.watermark_after
        warnings = [e for e in rig.recorder.logs if e.service == "hubspot" and e.level == "warn"]
        assert warnings and warnings[0].details["failed"] == len(emails)

        second = await sync_customers(unleashed, engine, business_id=BUSINESS, hubspot=hubspot)

        assert (second.counts["hubspot_created"], second.counts["hubspot_failed"]) == (
            len(emails),
            0,
        )
        assert_complete_once(rig, engine)
