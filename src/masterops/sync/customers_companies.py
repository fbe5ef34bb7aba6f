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
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Engine, func, select, update

from masterops.db.tables import customers
from masterops.integrations.hubspot import HubSpotConnector
from masterops.sync.common import (
    Progress,
    ensure_property_if_pending,
    log_refused,
    raise_if_fatal,
    refused_examples,
    tally_upserts,
    write_hubspot_ids,
)
from masterops.sync.refusals import refusals_of

OBJECT_TYPE = "companies"
#: Their name where other modules speak of companies beside contacts.
COMPANIES = OBJECT_TYPE
CONTACTS = "contacts"
#: The unique company property naming the Unleashed customer: the upsert's ``idProperty``.
COMPANY_GUID_PROPERTY = "unleashed_customer_guid"
#: The Unleashed CustomerCode, beside the Guid (the same name as on contacts).
COMPANY_CODE_PROPERTY = "unleashed_customer_code"
ROUND_SIZE = 500


@dataclass(slots=True)
class CompanyCounts:
    upserted: int = 0
    created: int = 0
    failed: int = 0
    #: Companies of obsolete customers, archived (``customers_archive``).
    archived: int = 0


#: Every property ``company_properties`` writes: what webhook drift detection owns.
COMPANY_PROPERTIES = frozenset({COMPANY_GUID_PROPERTY, COMPANY_CODE_PROPERTY, "name"})


def company_properties(row: Mapping[str, Any]) -> dict[str, str]:
    """The HubSpot properties of one ``customers`` row as a company: named after the
    customer (its code when Unleashed has no name)."""
    code = str(row["customer_code"])
    return {
        COMPANY_GUID_PROPERTY: str(row["unleashed_guid"]),
        COMPANY_CODE_PROPERTY: code,
        "name": str(row["customer_name"] or code),
    }


async def ensure_company_properties(
    hubspot: HubSpotConnector, engine: Engine, pending: ColumnElement[bool]
) -> None:
    """The companies' owned properties, set up only when a customer is left to send (a
    no-change run makes no property check)."""
    await ensure_property_if_pending(
        hubspot,
        engine,
        pending,
        OBJECT_TYPE,
        COMPANY_GUID_PROPERTY,
        label="Unleashed customer GUID",
        unique=True,
        description="The Unleashed customer Guid; set by Master-Ops customer sync.",
    )
    await ensure_property_if_pending(
        hubspot,
        engine,
        pending,
        OBJECT_TYPE,
        COMPANY_CODE_PROPERTY,
        label="Unleashed customer code",
        description="The Unleashed CustomerCode; set by Master-Ops customer sync.",
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


async def push_companies(
    hubspot: HubSpotConnector,
    engine: Engine,
    *,
    business_id: str,
    condition: Any,
    counts: CompanyCounts,
    on_progress: Progress | None = None,
    round_size: int = ROUND_SIZE,
) -> set[str]:
    """Upsert a company for every customer matching ``condition`` (pending, active) and
    store its id. Returns the Guids whose company HubSpot refused: the caller leaves them
    pending. An authentication, authorization or open-breaker failure raises."""
    with engine.connect() as conn:
        total = int(conn.execute(select(func.count()).where(condition)).scalar_one())
    if on_progress is not None:
        on_progress("companies", 0, total)
    refused: set[str] = set()
    done = 0
    after: str | None = None
    while True:
        # Keyset paging by Guid; nothing here changes ``condition``, so none is skipped.
        stmt = (
            select(customers.c.unleashed_guid, customers.c.customer_code, customers.c.customer_name)
            .where(condition)
            .order_by(customers.c.unleashed_guid)
            .limit(round_size)
        )
        if after is not None:
            stmt = stmt.where(customers.c.unleashed_guid > after)
        with engine.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(stmt)]
        if not rows:
            break
        after = str(rows[-1]["unleashed_guid"])
        items = [company_properties(r) for r in rows]
        outcomes = await hubspot.batch_upsert(OBJECT_TYPE, items, id_property=COMPANY_GUID_PROPERTY)
        raise_if_fatal(outcomes)
        write_hubspot_ids(
            engine,
            customers,
            business_id,
            [
                (rows[o.index]["unleashed_guid"], o.record.id)
                for o in outcomes
                if o.ok and o.record is not None
            ],
            id_column="hubspot_company_id",
            stamp=False,  # the contact stage stamps the customer as sent
        )
        failures = tally_upserts(counts, outcomes)
        refused.update(str(rows[o.index]["unleashed_guid"]) for o in failures)
        if failures:
            log_refused(
                hubspot,
                business_id,
                operation="sync_customers",
                message=f"{len(failures)} compan(ies) of {business_id} were not upserted "
                "to HubSpot",
                failed=len(failures),
                examples=refused_examples(rows, failures, code_key="customer_code"),
                refused=refusals_of("company", [r["customer_code"] for r in rows], failures),
            )
        done += len(rows)
        if on_progress is not None:
            on_progress("companies", done, max(total, done))
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
    failed = {linked[o.index][0] for o in outcomes if not o.ok}
    if failed:
        log_refused(
            hubspot,
            business_id,
            operation="sync_customers",
            message=f"{len(failed)} contact(s) of {business_id} could not be linked to their "
            "company",
            failed=len(failed),
            examples=[{"unleashed_guid": g} for g in sorted(failed)[:10]],
            refused=refusals_of(
                "association",
                [f"contact {contact} -> company {company}" for _, contact, company in linked],
                [o for o in outcomes if not o.ok],
            ),
        )
    return failed
