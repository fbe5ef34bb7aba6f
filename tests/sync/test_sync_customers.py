"""``sync_customers``: full and incremental runs against the Unleashed and HubSpot
sandboxes, on every database backend."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

import pytest
from customers_helpers import (
    BUSINESS,
    PAGE_SIZE,
    InventoryRig,
    contact,
    contacts,
    inventory_rig,
    runs,
    sendable,
    stored_customers,
    watermark,
)
from sqlalchemy import Engine

from masterops.integrations.unleashed import Customer
from masterops.sync.customers import KIND, _store_customers, sync_customers
from masterops.sync.customers_hubspot import (
    CODE_PROPERTY,
    contact_properties,
    normalize_email,
)
from masterops.sync.runs import SyncResult, Tally
from masterops_sandbox.unleashed.records import Customer as SeededCustomer


def by_email(rig: InventoryRig) -> dict[str, list[SeededCustomer]]:
    groups: dict[str, list[SeededCustomer]] = defaultdict(list)
    for c in sendable(rig):
        assert c.email is not None
        groups[c.email.strip().lower()].append(c)
    return groups


def winner(group: list[SeededCustomer]) -> SeededCustomer:
    # The most recently modified customer gives a shared contact its properties.
    return max(group, key=lambda c: (c.modified_ms, c.guid.lower()))


async def test_full_sync_stores_every_customer_once_and_creates_contacts(engine: Engine) -> None:
    async with inventory_rig() as rig:
        # The seed's only emailless customer is obsolete: add an active one.
        rig.unleashed_sandbox.create_customer(BUSINESS, "NOMAIL1", "No Mail Pty")
        progress: list[tuple[str, int, int | None]] = []
        result = await sync_customers(
            rig.unleashed(),
            engine,
            business_id=BUSINESS,
            hubspot=rig.hubspot(),
            full=True,
            page_size=PAGE_SIZE,
            on_progress=lambda stage, done, total: progress.append((stage, done, total)),
        )

        everyone = rig.unleashed_sandbox.customers(BUSINESS)
        active = [c for c in everyone if not c.obsolete]
        groups = by_email(rig)
        no_email = [c for c in active if not c.email]
        assert len(everyone) > 2 * PAGE_SIZE, "the seed should fill several pages"
        assert any(c.obsolete for c in everyone), "the seed should hold an obsolete customer"
        assert len(no_email) == 1
        assert any(len(g) > 1 for g in groups.values()), "the seed should share an email"

        stored = stored_customers(engine)
        assert set(stored) == {c.guid.lower() for c in everyone}
        assert isinstance(result, SyncResult) and result.entity == "customers"
        assert result.status == "succeeded" and result.ok
        assert (
            result.counts["customers_fetched"]
            == result.counts["customers_written"]
            == len(everyone)
        )
        assert result.counts["hubspot_upserted"] == result.counts["hubspot_created"] == len(groups)
        assert result.counts["hubspot_skipped"] == len(no_email)
        assert result.counts["hubspot_merged"] == sum(len(g) - 1 for g in groups.values())
        assert result.counts["hubspot_failed"] == 0
        assert result.watermark_before is None and result.watermark_after is not None
        assert datetime.fromisoformat(result.watermark_after).tzinfo is not None
        assert watermark(engine) == result.watermark_after

        # One contact per distinct email, carrying the right customer's fields.
        assert len(contacts(rig)) == len(groups)
        for email, group in groups.items():
            found = contact(rig, email)
            assert found is not None
            props, first = found["properties"], winner(group)
            assert props["email"] == email
            assert props["firstname"] == first.first_name
            assert props["lastname"] == first.last_name
            assert props["company"] == first.name
            assert props[CODE_PROPERTY] == first.code
            for c in group:  # every customer sharing it points at the one contact
                assert stored[c.guid.lower()]["hubspot_id"] == str(found["id"])
                assert stored[c.guid.lower()]["hubspot_synced_at"] is not None
        for c in everyone:
            row = stored[c.guid.lower()]
            assert row["customer_code"] == c.code and row["obsolete"] is c.obsolete
            assert row["currency"] == c.currency
            if c.obsolete or not c.email:
                assert row["hubspot_id"] is None
        for c in everyone:
            if c.obsolete and c.email and c.email.lower() not in groups:
                assert contact(rig, c.email) is None

        [run] = runs(engine)
        assert (run["id"], run["status"]) == (result.run_id, "succeeded")
        assert run["written"] == len(everyone)

        last = {stage: (done, total) for stage, done, total in progress}
        assert last == {
            "customers": (len(everyone), len(everyone)),
            "hubspot": (len(active), len(active)),
        }
        summaries = [e for e in rig.recorder.logs if e.operation == "sync_customers"]
        assert [(e.source, e.service, e.level) for e in summaries] == [
            ("sync", "unleashed", "info")
        ]
        assert summaries[0].details["customers_written"] == len(everyone)


async def test_incremental_run_writes_only_the_changed_customer(engine: Engine) -> None:
    async with inventory_rig() as rig:
        unleashed, hubspot = rig.unleashed(), rig.hubspot()
        first = await sync_customers(
            unleashed, engine, business_id=BUSINESS, hubspot=hubspot, page_size=PAGE_SIZE
        )
        groups = by_email(rig)
        changed = next(g[0] for g in groups.values() if len(g) == 1)
        assert changed.email is not None
        rig.unleashed_sandbox.update_customer(
            BUSINESS, changed.code, name="Renamed Wholefoods", first_name="Ada"
        )
        before = contacts(rig)

        second = await sync_customers(
            unleashed, engine, business_id=BUSINESS, hubspot=hubspot, page_size=PAGE_SIZE
        )

        assert second.watermark_before == first.watermark_after
        assert (second.counts["customers_fetched"], second.counts["customers_written"]) == (1, 1)
        assert (second.counts["hubspot_upserted"], second.counts["hubspot_created"]) == (1, 0)
        assert (second.counts["hubspot_skipped"], second.counts["hubspot_merged"]) == (0, 0)
        row = stored_customers(engine)[changed.guid.lower()]
        assert (row["customer_name"], row["first_name"]) == ("Renamed Wholefoods", "Ada")
        # Updated in place, not duplicated.
        assert len(contacts(rig)) == len(before)
        found = contact(rig, changed.email)
        assert found is not None
        assert found["properties"]["company"] == "Renamed Wholefoods"
        assert found["properties"]["firstname"] == "Ada"
        assert str(found["id"]) == row["hubspot_id"]
        assert [r["status"] for r in runs(engine)] == ["succeeded", "succeeded"]


async def test_customers_without_a_usable_email_are_stored_but_not_sent(engine: Engine) -> None:
    async with inventory_rig() as rig:
        unleashed, hubspot = rig.unleashed(), rig.hubspot()
        await sync_customers(unleashed, engine, business_id=BUSINESS, hubspot=hubspot)
        count = len(contacts(rig))
        blank = rig.unleashed_sandbox.create_customer(BUSINESS, "NOMAIL1", "No Mail Pty")
        odd = rig.unleashed_sandbox.create_customer(
            BUSINESS, "BADMAIL1", "Bad Mail Pty", email="  not an address "
        )

        result = await sync_customers(unleashed, engine, business_id=BUSINESS, hubspot=hubspot)

        assert result.counts["customers_written"] == 2
        assert (result.counts["hubspot_skipped"], result.counts["hubspot_upserted"]) == (2, 0)
        stored = stored_customers(engine)
        assert stored[blank.guid.lower()]["email"] is None
        assert stored[odd.guid.lower()]["email"] == "not an address"
        assert all(stored[c.guid.lower()]["hubspot_id"] is None for c in (blank, odd))
        assert len(contacts(rig)) == count

        # Given an email, the customer becomes a contact.
        rig.unleashed_sandbox.update_customer(BUSINESS, "NOMAIL1", email=" Buyer@NoMail.Example ")
        fixed = await sync_customers(unleashed, engine, business_id=BUSINESS, hubspot=hubspot)
        # (BADMAIL1 is re-read and skipped again: modifiedSince compares whole days.)
        assert (fixed.counts["hubspot_created"], fixed.counts["hubspot_skipped"]) == (1, 1)
        found = contact(rig, "buyer@nomail.example")
        assert found is not None and found["properties"]["company"] == "No Mail Pty"
        assert stored_customers(engine)[blank.guid.lower()]["hubspot_id"] == str(found["id"])


async def test_without_hubspot_only_the_database_is_written(engine: Engine) -> None:
    async with inventory_rig() as rig:
        unleashed = rig.unleashed()
        result = await sync_customers(unleashed, engine, business_id=BUSINESS)

        assert not result.hubspot_enabled and result.counts["hubspot_upserted"] == 0
        assert len(stored_customers(engine)) == len(rig.unleashed_sandbox.customers(BUSINESS))
        assert rig.hubspot_harness.call_count() == 0

        # A later run with HubSpot sends what was never sent, though Unleashed has
        # nothing new: what HubSpot lacks is read from the database.
        later = await sync_customers(unleashed, engine, business_id=BUSINESS, hubspot=rig.hubspot())
        assert later.counts["customers_written"] == 0
        assert later.counts["hubspot_created"] == len(by_email(rig)) == len(contacts(rig))


async def test_a_customer_turned_obsolete_is_stored_but_not_sent(engine: Engine) -> None:
    async with inventory_rig() as rig:
        unleashed, hubspot = rig.unleashed(), rig.hubspot()
        await sync_customers(unleashed, engine, business_id=BUSINESS, hubspot=hubspot)
        customer = sendable(rig)[0]
        rig.unleashed_sandbox.update_customer(BUSINESS, customer.code, obsolete=True)

        result = await sync_customers(unleashed, engine, business_id=BUSINESS, hubspot=hubspot)

        assert result.counts["customers_written"] == 1 and result.counts["hubspot_upserted"] == 0
        assert stored_customers(engine)[customer.guid.lower()]["obsolete"] is True


async def test_a_new_customer_sharing_an_email_joins_its_contact(engine: Engine) -> None:
    async with inventory_rig() as rig:
        unleashed, hubspot = rig.unleashed(), rig.hubspot()
        await sync_customers(unleashed, engine, business_id=BUSINESS, hubspot=hubspot)
        existing = next(g[0] for g in by_email(rig).values() if len(g) == 1)
        assert existing.email is not None
        count = len(contacts(rig))
        twin = rig.unleashed_sandbox.create_customer(
            BUSINESS, "TWIN0001", "Twin Branch", email=existing.email.upper(), first_name="Bo"
        )

        result = await sync_customers(unleashed, engine, business_id=BUSINESS, hubspot=hubspot)

        # The newest customer speaks for the shared contact; both store its id.
        assert (
            result.counts["hubspot_upserted"],
            result.counts["hubspot_created"],
            result.counts["hubspot_merged"],
        ) == (1, 0, 1)
        assert len(contacts(rig)) == count
        found = contact(rig, existing.email)
        assert found is not None
        assert found["properties"][CODE_PROPERTY] == "TWIN0001"
        assert found["properties"]["company"] == "Twin Branch"
        stored = stored_customers(engine)
        assert stored[twin.guid.lower()]["hubspot_id"] == str(found["id"])
        assert stored[existing.guid.lower()]["hubspot_id"] == str(found["id"])


def test_emails_are_trimmed_and_lower_cased_and_checked() -> None:
    assert normalize_email("  Jo.Bloggs@Example.COM ") == "jo.bloggs@example.com"
    for bad in (None, "", "   ", "no-at-sign", "two@@example.com", "a b@example.com", "x@local"):
        assert normalize_email(bad) is None


def test_contact_properties_leave_out_missing_names() -> None:
    row = {
        "email": "Orders@Shop.Example",
        "customer_code": "SHOP1",
        "customer_name": "The Shop",
        "first_name": None,
        "last_name": "Lee",
    }
    assert contact_properties(row) == {
        "email": "orders@shop.example",
        CODE_PROPERTY: "SHOP1",
        "lastname": "Lee",
        "company": "The Shop",
    }
    with pytest.raises(ValueError, match="SHOP1"):
        contact_properties({**row, "email": None})


def test_a_guid_twice_in_one_page_is_stored_once(engine: Engine) -> None:
    # Records can move between pages while a walk runs, and Unleashed spells Guids in
    # either case; PostgreSQL refuses one ON CONFLICT statement touching a row twice.
    guid = "5D1E1C0A-1111-4222-8333-944455556666"
    older = Customer(guid=guid, customer_code="C1", customer_name="Old", email="A@B.example")
    newer = Customer(guid=guid.lower(), customer_code="C1", customer_name="New", email=" ")
    tally = Tally(KIND, "customers")

    with engine.begin() as conn:
        _store_customers(conn, BUSINESS, [older, newer], tally, set())

    row = stored_customers(engine)[guid.lower()]
    assert (row["customer_name"], row["email"]) == ("New", None)
    assert (tally["customers_fetched"], tally["customers_written"]) == (2, 1)
