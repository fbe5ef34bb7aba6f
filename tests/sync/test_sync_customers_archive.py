"""The archive rule of the customer sync: a HubSpot contact the platform pointed a
customer at is archived once no active customer of the business points at it any more
(the customer became obsolete, changed its email, or lost it). Against the Unleashed and
HubSpot sandboxes, on every database backend."""

from __future__ import annotations

from collections import defaultdict

from customers_helpers import (
    BUSINESS,
    InventoryRig,
    contact,
    contacts,
    inventory_rig,
    sendable,
    stored_customers,
)
from sqlalchemy import Engine

from masterops.sync.customers import sync_customers
from masterops.sync.runs import SyncResult
from masterops_sandbox.unleashed.records import Customer as SeededCustomer


async def run(rig: InventoryRig, engine: Engine) -> SyncResult:
    return await sync_customers(
        rig.unleashed(), engine, business_id=BUSINESS, hubspot=rig.hubspot(),
        customers_as="contacts",
    )  # fmt: skip


def alone(rig: InventoryRig) -> SeededCustomer:
    """A sendable customer whose email no other customer has."""
    groups: dict[str, list[SeededCustomer]] = defaultdict(list)
    for c in sendable(rig):
        assert c.email is not None
        groups[c.email.strip().lower()].append(c)
    return next(g[0] for g in groups.values() if len(g) == 1)


def shared(rig: InventoryRig) -> list[SeededCustomer]:
    groups: dict[str, list[SeededCustomer]] = defaultdict(list)
    for c in sendable(rig):
        assert c.email is not None
        groups[c.email.strip().lower()].append(c)
    return next(g for g in groups.values() if len(g) > 1)


async def test_the_contact_of_a_customer_turned_obsolete_is_archived(engine: Engine) -> None:
    async with inventory_rig() as rig:
        await run(rig, engine)
        customer = alone(rig)
        contact_id = stored_customers(engine)[customer.guid.lower()]["hubspot_id"]
        assert contact_id is not None
        count = len(contacts(rig))
        rig.unleashed_sandbox.update_customer(BUSINESS, customer.code, obsolete=True)

        result = await run(rig, engine)

        assert result.counts["hubspot_archived"] == 1 and result.ok
        archived = rig.hubspot_sandbox.get(BUSINESS, "contacts", contact_id)
        assert archived is not None and archived["archived"] is True
        assert len(contacts(rig)) == count - 1
        row = stored_customers(engine)[customer.guid.lower()]
        assert row["obsolete"] is True and row["hubspot_id"] is None

        # Settled: the next run archives nothing again.
        again = await run(rig, engine)
        assert again.counts["hubspot_archived"] == 0


async def test_a_contact_another_active_customer_shares_is_kept(engine: Engine) -> None:
    async with inventory_rig() as rig:
        await run(rig, engine)
        first, *others = shared(rig)
        contact_id = stored_customers(engine)[first.guid.lower()]["hubspot_id"]
        rig.unleashed_sandbox.update_customer(BUSINESS, first.code, obsolete=True)

        result = await run(rig, engine)

        assert result.counts["hubspot_archived"] == 0
        kept = rig.hubspot_sandbox.get(BUSINESS, "contacts", contact_id)
        assert kept is not None and kept["archived"] is False
        stored = stored_customers(engine)
        assert stored[first.guid.lower()]["hubspot_id"] is None
        assert all(stored[o.guid.lower()]["hubspot_id"] == contact_id for o in others)


async def test_an_email_change_archives_the_contact_of_the_old_email(engine: Engine) -> None:
    async with inventory_rig() as rig:
        await run(rig, engine)
        customer = alone(rig)
        old_email = customer.email  # the sandbox changes the record in place
        assert old_email is not None
        old_id = stored_customers(engine)[customer.guid.lower()]["hubspot_id"]
        count = len(contacts(rig))
        rig.unleashed_sandbox.update_customer(BUSINESS, customer.code, email="new@buyer.example")

        result = await run(rig, engine)

        assert (result.counts["hubspot_created"], result.counts["hubspot_archived"]) == (1, 1)
        found = contact(rig, "new@buyer.example")
        assert found is not None
        assert stored_customers(engine)[customer.guid.lower()]["hubspot_id"] == found["id"]
        assert contact(rig, old_email) is None
        old = rig.hubspot_sandbox.get(BUSINESS, "contacts", old_id)
        assert old is not None and old["archived"] is True
        assert len(contacts(rig)) == count


async def test_an_email_change_keeps_a_contact_still_shared(engine: Engine) -> None:
    async with inventory_rig() as rig:
        await run(rig, engine)
        first, *others = shared(rig)
        old_id = stored_customers(engine)[first.guid.lower()]["hubspot_id"]
        rig.unleashed_sandbox.update_customer(BUSINESS, first.code, email="own@buyer.example")

        result = await run(rig, engine)

        assert (result.counts["hubspot_created"], result.counts["hubspot_archived"]) == (1, 0)
        kept = rig.hubspot_sandbox.get(BUSINESS, "contacts", old_id)
        assert kept is not None and kept["archived"] is False
        stored = stored_customers(engine)
        assert all(stored[o.guid.lower()]["hubspot_id"] == old_id for o in others)


async def test_a_customer_whose_email_is_removed_or_spoiled_lets_its_contact_go(
    engine: Engine,
) -> None:
    async with inventory_rig() as rig:
        await run(rig, engine)
        singles = [c for c in sendable(rig) if c.guid == alone(rig).guid]
        blanked = singles[0]
        spoiled = next(
            c for c in sendable(rig)
            if c.guid != blanked.guid and c not in shared(rig)
            and sum(1 for o in sendable(rig) if o.email == c.email) == 1
        )  # fmt: skip
        stored = stored_customers(engine)
        old_ids = [stored[c.guid.lower()]["hubspot_id"] for c in (blanked, spoiled)]
        rig.unleashed_sandbox.update_customer(BUSINESS, blanked.code, email="")
        rig.unleashed_sandbox.update_customer(BUSINESS, spoiled.code, email="not an address")

        result = await run(rig, engine)

        assert (result.counts["hubspot_skipped"], result.counts["hubspot_archived"]) == (2, 2)
        for old_id in old_ids:
            old = rig.hubspot_sandbox.get(BUSINESS, "contacts", old_id)
            assert old is not None and old["archived"] is True
        stored = stored_customers(engine)
        assert all(stored[c.guid.lower()]["hubspot_id"] is None for c in (blanked, spoiled))


async def test_a_refused_archive_is_tried_again_by_the_next_run(engine: Engine) -> None:
    async with inventory_rig() as rig:
        await run(rig, engine)
        customer = alone(rig)
        contact_id = stored_customers(engine)[customer.guid.lower()]["hubspot_id"]
        rig.unleashed_sandbox.update_customer(BUSINESS, customer.code, obsolete=True)
        rig.hubspot_sandbox.fail_next(400, path_contains="/contacts/batch/archive")

        refused = await run(rig, engine)

        assert refused.status == "succeeded" and not refused.ok
        assert (refused.counts["hubspot_archived"], refused.counts["hubspot_failed"]) == (0, 1)
        # The id is kept, so the archive can be tried again.
        assert stored_customers(engine)[customer.guid.lower()]["hubspot_id"] == contact_id
        warnings = [e for e in rig.recorder.logs if e.service == "hubspot" and e.level == "warn"]
        assert any(contact_id in str(e.details) for e in warnings)

        again = await run(rig, engine)

        assert again.ok and again.counts["hubspot_archived"] == 1
        gone = rig.hubspot_sandbox.get(BUSINESS, "contacts", contact_id)
        assert gone is not None and gone["archived"] is True
        assert stored_customers(engine)[customer.guid.lower()]["hubspot_id"] is None
