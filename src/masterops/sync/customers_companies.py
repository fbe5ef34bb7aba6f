"""Wholesale customers as HubSpot companies (``customers_as = "companies"``).

A wholesale business sells to shops, so each of its active Unleashed customers becomes a
HubSpot company, with the customer's contact (and, through ``hubspot_company_id``, its
deals) associated to it. Companies are upserted by a unique property the platform owns,
``unleashed_customer_guid``, so a rerun updates the company it made; a company deleted in
HubSpot is made afresh by the next sync of its customer, whose stored id then changes and
whose contact is linked to the new one.

This module writes ``hubspot_company_id`` only: the contact stage that follows stamps
``hubspot_synced_at``, links each contact to its company (the v4 default association,
279 contact -> company) and leaves the customers whose company failed pending.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Engine, Select, select, update

from masterops.db.tables import customers
from masterops.integrations.hubspot import HubSpotConnector
from masterops.sync.common import log_refused, raise_if_fatal
from masterops.sync.hubspot_push import (
    OwnedProperty,
    Properties,
    PushRun,
    PushStage,
    PushTarget,
    Upsert,
    push,
    upsert_round,
)
from masterops.sync.refusals import refusal

OBJECT_TYPE = "companies"
#: Their name where other modules speak of companies beside contacts.
COMPANIES = OBJECT_TYPE
CONTACTS = "contacts"
#: The unique company property naming the Unleashed customer: the upsert's ``idProperty``.
COMPANY_GUID_PROPERTY = "unleashed_customer_guid"
#: The Unleashed CustomerCode, beside the Guid (the same name as on contacts).
COMPANY_CODE_PROPERTY = "unleashed_customer_code"
ROUND_SIZE = 500

#: The HubSpot properties of one ``customers`` row as a company: named after the customer
#: (its code when Unleashed has no name).
company_properties = Properties(
    {
        COMPANY_GUID_PROPERTY: lambda r: str(r["unleashed_guid"]),
        COMPANY_CODE_PROPERTY: lambda r: str(r["customer_code"]),
        "name": lambda r: str(r["customer_name"] or r["customer_code"]),
    }
)

COMPANY = PushTarget(
    object_type=OBJECT_TYPE,
    webhook_type="company",
    what="company",
    label="customer_code",
    properties=company_properties,
    id_property=COMPANY_GUID_PROPERTY,
    setup=(
        OwnedProperty(
            COMPANY_GUID_PROPERTY,
            {
                "label": "Unleashed customer GUID",
                "unique": True,
                "description": "The Unleashed customer Guid; set by Master-Ops customer sync.",
            },
        ),
        OwnedProperty(
            COMPANY_CODE_PROPERTY,
            {
                "label": "Unleashed customer code",
                "description": "The Unleashed CustomerCode; set by Master-Ops customer sync.",
            },
        ),
    ),
)


def _rounds(business_id: str) -> Select[Any]:
    return select(customers.c.unleashed_guid, customers.c.customer_code, customers.c.customer_name)


def company_stage(pending: ColumnElement[bool]) -> PushStage:
    """The companies stage over the contacts stage's pending customers (``pending``)."""
    return PushStage(
        name="companies",
        operation="sync_customers",
        table=customers,
        key="unleashed_guid",
        pending=lambda business_id, full: pending,
        rounds=_rounds,
        targets=(COMPANY,),
        round_size=ROUND_SIZE,
    )


def mark_companyless_pending(engine: Engine, business_id: str) -> int:
    """Make every active customer without a company pending for the HubSpot stage: those
    sent as contacts before the business was wholesale, and those whose company id was
    cleared (deleted in HubSpot). Returns how many."""
    with engine.begin() as conn:
        result = conn.execute(
            update(customers)
            .where(
                customers.c.business_id == business_id,
                customers.c.obsolete.is_(False),
                customers.c.hubspot_company_id.is_(None),
                customers.c.hubspot_synced_at.is_not(None),
            )
            .values(hubspot_synced_at=None)
        )
    return int(result.rowcount)


async def push_companies(run: PushRun, pending: ColumnElement[bool]) -> set[str]:
    """Upsert a company for every customer ``pending`` (active, left to send) and store
    its id (without stamping the customer: the contact stage that follows does). Returns
    the Guids whose company HubSpot refused: the caller leaves them pending. An
    authentication, authorization or open-breaker failure raises."""
    stage = company_stage(pending)
    spec = Upsert(
        stage=stage,
        target=COMPANY,
        upserted="hubspot_companies_upserted",
        created="hubspot_companies_created",
        id_column="hubspot_company_id",
        stamp=False,  # the contact stage stamps the customer as sent
    )
    refused: set[str] = set()

    async def send(inner: PushRun, rows: list[dict[str, Any]]) -> int:
        # Nothing here changes the pending predicate, so the keyset skips none.
        failures = await upsert_round(spec, inner, rows)
        refused.update(str(rows[o.index]["unleashed_guid"]) for o in failures)
        return len(rows)

    inner = PushRun(run.hubspot, run.engine, run.business_id, run.full, run.tally, run.on_progress)
    await push(stage, inner, send=send)
    return refused


async def link_contacts(
    hubspot: HubSpotConnector,
    business_id: str,
    rows: Sequence[Mapping[str, Any]],
    contact_of: Mapping[str, str],
    held: Collection[str],
) -> set[str]:
    """Associate each customer's contact (``contact_of[guid]``) with its company, by the
    v4 default type (279 contact -> company). Linking twice is harmless, so every sent
    customer is linked, which also re-links one whose contact or company id changed.
    Customers in ``held`` (their company failed) are left out. Returns the Guids whose
    link HubSpot refused (counted and logged by the caller's count)."""
    linked = [
        (guid, contact_of[guid], str(r["hubspot_company_id"]))
        for r in rows
        if r["hubspot_company_id"] is not None and (guid := str(r["unleashed_guid"])) not in held
    ]
    if not linked:
        return set()
    outcomes = await hubspot.batch_associate_default(
        CONTACTS, OBJECT_TYPE, [(contact, company) for _, contact, company in linked]
    )
    raise_if_fatal(outcomes)
    refused = [o for o in outcomes if not o.ok]
    log_refused(
        hubspot,
        business_id,
        [refusal(linked[o.index][0], "contact -> company link", o.error) for o in refused],
        operation="sync_customers",
        message=f"{len(refused)} contact(s) of {business_id} could not be linked to their company",
    )
    return {linked[o.index][0] for o in refused}
