"""Wholesale customers are HubSpot companies: each active customer becomes a company
(upserted by ``unleashed_customer_guid``), its contact is associated to it, the company
id is stored, links follow when ids change, and an obsolete customer's company is
archived. Against the Unleashed and HubSpot sandboxes, on every database backend."""

from __future__ import annotations

from typing import Any

from customers_helpers import (
    BUSINESS,
    PAGE_SIZE,
    InventoryRig,
    contact,
    contacts,
    inventory_rig,
    sendable,
    stored_customers,
)
from sqlalchemy import Engine

from masterops.sync.customers import sync_customers
from masterops.sync.customers_companies import COMPANY_GUID_PROPERTY
from masterops.sync.runs import SyncResult


async def run(rig: InventoryRig, engine: Engine, *, full: bool = False) -> SyncResult:
    return await sync_customers(
        rig.unleashed(), engine, business_id=BUSINESS, hubspot=rig.hubspot(),
        customers_as="companies", full=full, page_size=PAGE_SIZE,
    )  # fmt: skip


def company(rig: InventoryRig, guid: str) -> dict[str, Any] | None:
    return rig.hubspot_sandbox.find(BUSINESS, "companies", COMPANY_GUID_PROPERTY, guid.lower())


def companies_of(rig: InventoryRig, contact_id: str) -> set[str]:
    return set(rig.hubspot_sandbox.associated_ids(BUSINESS, "contacts", contact_id, "companies"))


async def test_every_active_customer_becomes_a_company_with_its_contact(engine: Engine) -> None:
    async with inventory_rig() as rig:
        rig.unleashed_sandbox.create_customer(BUSINESS, "NOMAIL1", "No Mail Pty")

        result = await run(rig, engine, full=True)

        everyone = rig.unleashed_sandbox.customers(BUSINESS)
        active = [c for c in everyone if not c.obsolete]
        assert result.ok
        assert (
            result.counts["hubspot_companies_upserted"]
            == result.counts["hubspot_companies_created"]
            == len(active)
        )
        assert len(rig.hubspot_sandbox.records(BUSINESS, "companies")) == len(active)
        stored = stored_customers(engine)
        for c in active:
            found = company(rig, c.guid)
            assert found is not None
            assert found["properties"]["name"] == c.name
            row = stored[c.guid.lower()]
            assert row["hubspot_company_id"] == found["id"]
            if row["hubspot_id"] is not None:
                # The contact is linked to the company of every customer sharing it.
                assert found["id"] in companies_of(rig, row["hubspot_id"])
        for c in everyone:
            if c.obsolete:
                assert company(rig, c.guid) is None
                assert stored[c.guid.lower()]["hubspot_company_id"] is None
        emailless = stored[next(c for c in active if c.code == "NOMAIL1").guid.lower()]
        assert emailless["hubspot_id"] is None and emailless["hubspot_company_id"] is not None

        # A rerun updates in place: no second company, no second contact.
        before = len(contacts(rig))
        again = await run(rig, engine, full=True)
        assert (
            again.counts["hubspot_companies_created"] == 0 and again.counts["hubspot_created"] == 0
        )
        assert len(rig.hubspot_sandbox.records(BUSINESS, "companies")) == len(active)
        assert len(contacts(rig)) == before


async def test_an_email_change_links_the_new_contact_to_the_company(engine: Engine) -> None:
    async with inventory_rig() as rig:
        await run(rig, engine)
        customer = sendable(rig)[0]
        company_id = stored_customers(engine)[customer.guid.lower()]["hubspot_company_id"]
        rig.unleashed_sandbox.update_customer(BUSINESS, customer.code, email="fresh@shop.example")

        result = await run(rig, engine)

        assert result.ok
        found = contact(rig, "fresh@shop.example")
        assert found is not None
        assert company_id in companies_of(rig, found["id"])
        row = stored_customers(engine)[customer.guid.lower()]
        assert (row["hubspot_id"], row["hubspot_company_id"]) == (found["id"], company_id)
        # The company no longer lists a contact for the old address.
        linked = rig.hubspot_sandbox.associated_ids(BUSINESS, "companies", company_id, "contacts")
        emails = {
            (rig.hubspot_sandbox.get(BUSINESS, "contacts", i) or {})["properties"]["email"]
            for i in linked
        }
        assert emails == {"fresh@shop.example"}


async def test_a_company_deleted_in_hubspot_is_recreated_and_relinked(engine: Engine) -> None:
    async with inventory_rig() as rig:
        await run(rig, engine)
        customer = sendable(rig)[0]
        row = stored_customers(engine)[customer.guid.lower()]
        rig.hubspot_sandbox.archive(BUSINESS, "companies", row["hubspot_company_id"])
        rig.unleashed_sandbox.update_customer(BUSINESS, customer.code, name="Reborn Foods")

        result = await run(rig, engine)

        found = company(rig, customer.guid)
        assert found is not None and found["properties"]["name"] == "Reborn Foods"
        assert result.counts["hubspot_companies_created"] == 1
        after = stored_customers(engine)[customer.guid.lower()]
        assert after["hubspot_company_id"] == found["id"] != row["hubspot_company_id"]
        assert found["id"] in companies_of(rig, after["hubspot_id"])


async def test_the_company_of_an_obsolete_customer_is_archived(engine: Engine) -> None:
    async with inventory_rig() as rig:
        await run(rig, engine)
        customer = sendable(rig)[0]
        company_id = stored_customers(engine)[customer.guid.lower()]["hubspot_company_id"]
        rig.unleashed_sandbox.update_customer(BUSINESS, customer.code, obsolete=True)

        result = await run(rig, engine)

        assert result.ok and result.counts["hubspot_companies_archived"] == 1
        gone = rig.hubspot_sandbox.get(BUSINESS, "companies", company_id)
        assert gone is not None and gone["archived"] is True
        row = stored_customers(engine)[customer.guid.lower()]
        assert (row["hubspot_id"], row["hubspot_company_id"]) == (None, None)


async def test_a_retail_business_makes_no_companies(engine: Engine) -> None:
    async with inventory_rig() as rig:
        result = await sync_customers(
            rig.unleashed(), engine, business_id=BUSINESS, hubspot=rig.hubspot(),
            customers_as="contacts",
        )  # fmt: skip
        assert result.counts["hubspot_companies_upserted"] == 0
        assert rig.hubspot_sandbox.records(BUSINESS, "companies") == []
        assert all(r["hubspot_company_id"] is None for r in stored_customers(engine).values())


async def test_a_shared_contact_left_behind_is_unlinked_from_the_company(engine: Engine) -> None:
    async with inventory_rig() as rig:
        await run(rig, engine)
        groups: dict[str, list[Any]] = {}
        for c in sendable(rig):
            assert c.email is not None
            groups.setdefault(c.email.strip().lower(), []).append(c)
        leaver, *stayers = next(g for g in groups.values() if len(g) > 1)
        stored = stored_customers(engine)
        shared_id = stored[leaver.guid.lower()]["hubspot_id"]
        leaver_company = stored[leaver.guid.lower()]["hubspot_company_id"]
        assert leaver_company in companies_of(rig, shared_id)
        rig.unleashed_sandbox.update_customer(BUSINESS, leaver.code, email="own@shop.example")

        result = await run(rig, engine)

        assert result.ok and result.counts["hubspot_archived"] == 0
        # Kept for the customers still sharing it, linked to their companies only.
        assert companies_of(rig, shared_id) == {
            stored[s.guid.lower()]["hubspot_company_id"] for s in stayers
        }
        found = contact(rig, "own@shop.example")
        assert found is not None and companies_of(rig, found["id"]) == {leaver_company}


async def test_customers_sent_as_contacts_before_get_their_companies(engine: Engine) -> None:
    async with inventory_rig() as rig:
        await sync_customers(
            rig.unleashed(), engine, business_id=BUSINESS, hubspot=rig.hubspot(),
            customers_as="contacts",
        )  # fmt: skip
        active = [c for c in rig.unleashed_sandbox.customers(BUSINESS) if not c.obsolete]

        # The business turns wholesale; Unleashed has nothing new to say.
        result = await run(rig, engine)

        assert result.counts["customers_written"] == 0
        assert result.counts["hubspot_companies_created"] == len(active)
        stored = stored_customers(engine)
        for c in active:
            row = stored[c.guid.lower()]
            assert row["hubspot_company_id"] is not None
            if row["hubspot_id"] is not None:
                assert row["hubspot_company_id"] in companies_of(rig, row["hubspot_id"])
        # Settled: the next run sends nothing.
        again = await run(rig, engine)
        assert (again.counts["hubspot_companies_upserted"], again.counts["hubspot_upserted"]) == (
            0,
            0,
        )


async def test_refused_companies_and_links_leave_their_customers_pending(engine: Engine) -> None:
    async with inventory_rig() as rig:
        active = [c for c in rig.unleashed_sandbox.customers(BUSINESS) if not c.obsolete]
        assert len(active) < 100, "one batch of companies, one of links"
        # A 400 refuses the batch of companies (no link is tried for them), then the
        # batch of links of the next run.
        rig.hubspot_sandbox.fail_next(400, path_contains="/companies/batch/upsert")
        rig.hubspot_sandbox.fail_next(400, path_contains="/associations/contacts/companies")

        first = await run(rig, engine)

        assert first.status == "succeeded" and not first.ok
        assert first.counts["hubspot_failed"] == len(active)
        assert first.counts["hubspot_companies_upserted"] == 0
        unsent = [r for r in stored_customers(engine).values() if not r["obsolete"]]
        assert all(r["hubspot_company_id"] is None for r in unsent)
        assert all(r["hubspot_synced_at"] is None for r in unsent)

        second = await run(rig, engine)

        assert not second.ok and second.counts["hubspot_companies_created"] == len(active)
        linked = [r for r in stored_customers(engine).values() if r["hubspot_id"] is not None]
        assert second.counts["hubspot_failed"] == len(linked)
        assert all(r["hubspot_synced_at"] is None for r in linked)

        third = await run(rig, engine)

        assert third.ok and third.counts["hubspot_companies_created"] == 0
        stored = stored_customers(engine)
        for c in active:
            row = stored[c.guid.lower()]
            assert row["hubspot_company_id"] is not None and row["hubspot_synced_at"] is not None
            if row["hubspot_id"] is not None:
                assert row["hubspot_company_id"] in companies_of(rig, row["hubspot_id"])
        assert len(rig.hubspot_sandbox.records(BUSINESS, "companies")) == len(active)
