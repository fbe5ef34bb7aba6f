"""The HubSpot stage of the customer sync: stored customers become HubSpot contacts.

Which customers go is read from the database, as in ``inventory_hubspot``: every active
(not obsolete) customer whose row changed after the HubSpot stage last dealt with it
(``updated_at > hubspot_synced_at``) or that it never dealt with, or every active one
with ``full``. So a customer refused once or left behind by a killed run is sent again by
the next run without the watermark having to wait for it.

Contacts are matched by HubSpot's unique ``email``, so a repeat updates the contact it
created (or one a person created by hand) instead of duplicating it. Two consequences:

- a customer without a usable email cannot be a contact: it is counted as skipped and
  stamped as dealt with (``hubspot_synced_at`` set, ``hubspot_id`` left empty), so it is
  not counted again until it changes, e.g. gains an email;
- customers of one business sharing an email share one contact: the most recently
  modified of them gives its properties (the "last one wins"), every one of them stores
  the contact's id, and the others are counted as merged.

What a customer leaves behind follows the archive rule (``customers_archive``): the
contact of an old email, of a lost email or of an obsolete customer is archived once no
active customer of the business points at it; a contact still shared is kept, and
unlinked from the company of the customer that left it.

For a wholesale business (``customers_as = "companies"``) each pending customer's company
is upserted first (``customers_companies``), then its contact is linked to it; a customer
whose company or link failed is left pending for the next run.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, and_, func, or_, select, update

from masterops.config import CustomersAs
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
from masterops.sync.customers_archive import archive_unused, retire_obsolete
from masterops.sync.customers_companies import (
    COMPANIES,
    CompanyCounts,
    ensure_company_properties,
    link_contacts,
    mark_companyless_pending,
    push_companies,
)
from masterops.sync.refusals import refusals_of

# The same rule as the inventory stage: an authentication, authorization or open-breaker
# answer means nothing can get through, so the run fails instead of counting items.

OBJECT_TYPE = "contacts"
#: HubSpot's unique contact property: the upsert's ``idProperty``.
ID_PROPERTY = "email"
#: Our custom contact property naming the Unleashed customer (not unique: customers
#: sharing an email share a contact, and a contact holds one code).
CODE_PROPERTY = "unleashed_customer_code"
#: Distinct emails handled per round: several HubSpot batches of 100 (sent concurrently by
#: the connector), one write-back transaction.
ROUND_SIZE = 500
#: Failed contacts named in one warning; the rest are only counted.

# Deliberately loose: one "@", something on each side, a dot in the domain. HubSpot is
# the judge of the rest; an address it refuses is an item failure, retried next run.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_NEVER = datetime.min.replace(tzinfo=UTC)


@dataclass(slots=True)
class ContactCounts:
    upserted: int = 0
    created: int = 0
    failed: int = 0
    skipped: int = 0
    merged: int = 0
    #: Contacts archived by the archive rule (``customers_archive``).
    archived: int = 0
    #: The companies of a wholesale business (``customers_companies``).
    companies: CompanyCounts = field(default_factory=CompanyCounts)


def normalize_email(value: str | None) -> str | None:
    """``value`` trimmed and lower-cased if it looks like an address, else None.

    HubSpot compares contact emails without case, so two spellings are one contact."""
    if value is None:
        return None
    email = value.strip().lower()
    return email if _EMAIL.match(email) else None


#: Contact property -> the ``customers`` column it is written from, when not empty.
_CONTACT_COLUMNS = (
    ("firstname", "first_name"),
    ("lastname", "last_name"),
    ("company", "customer_name"),
)
#: Every property ``contact_properties`` may write: what webhook drift detection owns.
CONTACT_PROPERTIES = frozenset({ID_PROPERTY, CODE_PROPERTY, *(p for p, _ in _CONTACT_COLUMNS)})


def contact_properties(row: Mapping[str, Any]) -> dict[str, str]:
    """The HubSpot properties of one ``customers`` row with a usable email.

    Empty names are left out rather than sent blank: a name a person typed into HubSpot
    is worth more than Unleashed's nothing."""
    email = normalize_email(row["email"])
    if email is None:
        raise ValueError(f"customer {row['customer_code']!r} has no usable email")
    props = {ID_PROPERTY: email, CODE_PROPERTY: str(row["customer_code"])}
    for prop, column in _CONTACT_COLUMNS:
        if row[column]:
            props[prop] = str(row[column])
    return props


def _active(business_id: str) -> Any:
    return and_(customers.c.business_id == business_id, customers.c.obsolete.is_(False))


def _pending(business_id: str, full: bool) -> Any:
    if full:
        return _active(business_id)
    return and_(
        _active(business_id),
        or_(
            customers.c.hubspot_synced_at.is_(None),
            customers.c.updated_at > customers.c.hubspot_synced_at,
        ),
    )


def _is_pending(row: Mapping[str, Any], full: bool) -> bool:
    # ``_pending`` in Python, for rows read because they share an email with a pending one.
    synced = row["hubspot_synced_at"]
    return full or synced is None or row["updated_at"] > synced


async def push_customers(
    hubspot: HubSpotConnector,
    engine: Engine,
    *,
    business_id: str,
    full: bool = False,
    on_progress: Progress | None = None,
    round_size: int = ROUND_SIZE,
    customers_as: CustomersAs = "contacts",
) -> ContactCounts:
    """Upsert the pending customers of ``business_id`` as HubSpot contacts (and, with
    ``customers_as="companies"``, companies with their contacts associated) and store
    each one's ids; archive what no active customer stands for any more
    (``customers_archive``). Item failures are counted and logged; an authentication,
    authorization or open-breaker failure raises its ``IntegrationError``."""
    await ensure_property_if_pending(
        hubspot,
        engine,
        _pending(business_id, full),
        OBJECT_TYPE,
        CODE_PROPERTY,
        label="Unleashed customer code",
        unique=False,
        description="The Unleashed CustomerCode; set by Master-Ops customer sync.",
    )
    as_companies = customers_as == "companies"
    condition = _pending(business_id, full)
    counts = ContactCounts()
    # Customers whose company (or its link) failed: left pending for the next run.
    held: set[str] = set()
    if as_companies:
        mark_companyless_pending(engine, business_id)
        await ensure_company_properties(hubspot, engine, _pending(business_id, full))
        held |= await push_companies(
            hubspot,
            engine,
            business_id=business_id,
            condition=condition,
            counts=counts.companies,
            on_progress=on_progress,
            round_size=round_size,
        )
    with engine.connect() as conn:
        total = int(conn.execute(select(func.count()).where(condition)).scalar_one())
    if on_progress is not None:
        on_progress("hubspot", 0, total)
    # No email at all: nothing to send, settled in one statement once the contacts they
    # pointed at are let go.
    done = counts.skipped = await _settle_without_email(
        hubspot, engine, business_id, and_(condition, customers.c.email.is_(None)), counts
    )
    _leave_pending(engine, business_id, held)
    if on_progress is not None:
        on_progress("hubspot", done, total)
    after: str | None = None
    while True:
        # Keyset paging by email: a round holds whole groups of customers sharing one, and
        # rows stamped as sent drop out of ``condition`` meanwhile (an OFFSET would skip).
        stmt = (
            select(customers.c.email)
            .where(condition, customers.c.email.is_not(None))
            .group_by(customers.c.email)
            .order_by(customers.c.email)
            .limit(round_size)
        )
        if after is not None:
            stmt = stmt.where(customers.c.email > after)
        with engine.connect() as conn:
            emails = [str(e) for e in conn.execute(stmt).scalars()]
            if not emails:
                break
            after = emails[-1]
            rows = [
                dict(r._mapping)
                for r in conn.execute(
                    select(customers).where(_active(business_id), customers.c.email.in_(emails))
                )
            ]
        groups: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            groups.setdefault(str(row["email"]), []).append(row)
        sendable: list[list[dict[str, Any]]] = []
        unusable: list[dict[str, Any]] = []
        for email in emails:
            group = groups.get(email, [])
            if normalize_email(email) is None:
                unusable.extend(r for r in group if _is_pending(r, full))
            else:
                sendable.append(group)
        counts.skipped += len(unusable)
        await _let_go_of_contacts(hubspot, engine, business_id, unusable, {}, counts)
        write_hubspot_ids(
            engine, customers, business_id, [(r["unleashed_guid"], None) for r in unusable]
        )
        # Last one wins: the most recently modified customer speaks for the contact.
        winners = [
            max(g, key=lambda r: (r["unleashed_modified_at"] or _NEVER, r["unleashed_guid"]))
            for g in sendable
        ]
        counts.merged += sum(len(g) - 1 for g in sendable)
        if winners:
            items = [contact_properties(w) for w in winners]
            outcomes = await hubspot.batch_upsert(OBJECT_TYPE, items, id_property=ID_PROPERTY)
            raise_if_fatal(outcomes)
            contact_of = {
                str(row["unleashed_guid"]): o.record.id
                for o in outcomes
                if o.ok and o.record is not None
                for row in sendable[o.index]
            }
            placed = [r for g in sendable for r in g if str(r["unleashed_guid"]) in contact_of]
            # Before the new ids are written: a run killed in between archives again
            # rather than forgetting which contact to archive.
            await _let_go_of_contacts(hubspot, engine, business_id, placed, contact_of, counts)
            write_hubspot_ids(engine, customers, business_id, list(contact_of.items()))
            if as_companies:
                linked = await link_contacts(hubspot, business_id, placed, contact_of, held)
                counts.failed += len(linked)
                held |= linked
            failures = tally_upserts(counts, outcomes)
            if failures:
                # Customers' emails are personal data: the examples name codes, not addresses.
                log_refused(
                    hubspot,
                    business_id,
                    operation="sync_customers",
                    message=f"{len(failures)} contact(s) of {business_id} were not upserted "
                    "to HubSpot",
                    failed=len(failures),
                    examples=refused_examples(winners, failures, code_key="customer_code"),
                    refused=refusals_of("contact", [w["customer_code"] for w in winners], failures),
                )
        # Right after this round's stamps: a run killed later still retries them.
        _leave_pending(engine, business_id, held)
        done += sum(1 for r in rows if _is_pending(r, full))
        if on_progress is not None:
            # Never more done than total: a customer may have changed since the count.
            on_progress("hubspot", done, max(total, done))
    retired = await retire_obsolete(hubspot, engine, business_id)
    counts.archived += retired.contacts
    counts.companies.archived += retired.companies
    counts.failed += retired.failed
    return counts


async def _let_go_of_contacts(
    hubspot: HubSpotConnector,
    engine: Engine,
    business_id: str,
    rows: list[dict[str, Any]],
    contact_of: Mapping[str, str],
    counts: ContactCounts,
) -> None:
    """The ``rows`` are about to point at ``contact_of[guid]`` (none when absent): the
    contacts they pointed at before are archived when no other active customer keeps them
    (the archive rule), or else unlinked from the company of the customer that left."""
    before = {
        str(r["unleashed_guid"]): str(r["hubspot_id"])
        for r in rows
        if r["hubspot_id"] is not None
        and r["hubspot_id"] != contact_of.get(str(r["unleashed_guid"]))
    }
    if not before:
        return
    archived, result = await archive_unused(
        hubspot,
        engine,
        business_id=business_id,
        object_type=OBJECT_TYPE,
        column="hubspot_id",
        ids=set(before.values()),
        leaving=[str(r["unleashed_guid"]) for r in rows],
        keep=set(contact_of.values()),
    )
    counts.archived += result.archived
    counts.failed += result.failed
    # A contact kept for another customer must not stay linked to this one's company.
    stale = [
        (before[guid], str(r["hubspot_company_id"]))
        for r in rows
        if (guid := str(r["unleashed_guid"])) in before
        and before[guid] not in archived
        and r["hubspot_company_id"] is not None
    ]
    if stale:
        outcomes = await hubspot.batch_remove_associations(OBJECT_TYPE, COMPANIES, stale)
        raise_if_fatal(outcomes)
        counts.failed += sum(1 for o in outcomes if not o.ok)


async def _settle_without_email(
    hubspot: HubSpotConnector,
    engine: Engine,
    business_id: str,
    condition: Any,
    counts: ContactCounts,
) -> int:
    with engine.connect() as conn:
        pointing = [
            dict(r._mapping)
            for r in conn.execute(
                select(customers).where(condition, customers.c.hubspot_id.is_not(None))
            )
        ]
    await _let_go_of_contacts(hubspot, engine, business_id, pointing, {}, counts)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        result = conn.execute(
            update(customers).where(condition).values(hubspot_id=None, hubspot_synced_at=now)
        )
    return int(result.rowcount)


def _leave_pending(engine: Engine, business_id: str, guids: set[str]) -> None:
    """Forget that the HubSpot stage dealt with these customers: the next run sends them
    again (their company, or its link to the contact, failed)."""
    if not guids:
        return
    with engine.begin() as conn:
        conn.execute(
            update(customers)
            .where(
                customers.c.business_id == business_id,
                customers.c.unleashed_guid.in_(sorted(guids)),
            )
            .values(hubspot_synced_at=None)
        )
