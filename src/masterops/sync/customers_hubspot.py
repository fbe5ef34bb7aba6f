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
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Engine, Select, and_, or_, select, update

from masterops.config import CustomersAs
from masterops.db.tables import customers
from masterops.integrations.hubspot import HubSpotConnector
from masterops.sync.common import Progress, log_refused, raise_if_fatal, write_hubspot_ids
from masterops.sync.customers_archive import archive_unused, retire_obsolete
from masterops.sync.customers_companies import (
    COMPANIES,
    link_contacts,
    mark_companyless_pending,
    push_companies,
)
from masterops.sync.hubspot_push import (
    OwnedProperty,
    Properties,
    PushRun,
    PushStage,
    PushTarget,
    Upsert,
    push,
    tally_upserts,
)
from masterops.sync.refusals import refusal
from masterops.sync.runs import Tally

OBJECT_TYPE = "contacts"
#: HubSpot's unique contact property: the upsert's ``idProperty``.
ID_PROPERTY = "email"
#: Our custom contact property naming the Unleashed customer (not unique: customers
#: sharing an email share a contact, and a contact holds one code).
CODE_PROPERTY = "unleashed_customer_code"
#: Distinct emails handled per round: several HubSpot batches of 100 (sent concurrently by
#: the connector), one write-back transaction.
ROUND_SIZE = 500

# Deliberately loose: one "@", something on each side, a dot in the domain. HubSpot is
# the judge of the rest; an address it refuses is an item failure, retried next run.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_NEVER = datetime.min.replace(tzinfo=UTC)


def normalize_email(value: str | None) -> str | None:
    """``value`` trimmed and lower-cased if it looks like an address, else None.

    HubSpot compares contact emails without case, so two spellings are one contact."""
    if value is None:
        return None
    email = value.strip().lower()
    return email if _EMAIL.match(email) else None


def _email(row: Mapping[str, Any]) -> str:
    email = normalize_email(row["email"])
    if email is None:
        raise ValueError(f"customer {row['customer_code']!r} has no usable email")
    return email


def _column(name: str) -> Any:
    # Empty names are left out rather than sent blank: a name a person typed into
    # HubSpot is worth more than Unleashed's nothing.
    return lambda row: str(row[name]) if row[name] else None


#: The HubSpot properties of one ``customers`` row with a usable email.
contact_properties = Properties(
    {
        ID_PROPERTY: _email,
        CODE_PROPERTY: lambda r: str(r["customer_code"]),
        "firstname": _column("first_name"),
        "lastname": _column("last_name"),
        "company": _column("customer_name"),
    }
)

CONTACT = PushTarget(
    object_type=OBJECT_TYPE,
    webhook_type="contact",
    what="contact",
    label="customer_code",
    properties=contact_properties,
    id_property=ID_PROPERTY,
    setup=(
        OwnedProperty(
            CODE_PROPERTY,
            {
                "label": "Unleashed customer code",
                "unique": False,
                "description": "The Unleashed CustomerCode; set by Master-Ops customer sync.",
            },
        ),
    ),
)


def _active(business_id: str) -> Any:
    return and_(customers.c.business_id == business_id, customers.c.obsolete.is_(False))


def _pending(business_id: str, full: bool) -> ColumnElement[bool]:
    if full:
        return _active(business_id)  # type: ignore[no-any-return]
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


def _rounds(business_id: str) -> Select[Any]:
    # By email: a round holds whole groups of customers sharing one.
    return (
        select(customers.c.email).where(customers.c.email.is_not(None)).group_by(customers.c.email)
    )


STAGE = PushStage(
    name="hubspot",
    operation="sync_customers",
    table=customers,
    key="email",
    pending=_pending,
    rounds=_rounds,
    targets=(CONTACT,),
    round_size=ROUND_SIZE,
)
_UPSERT = Upsert(
    stage=STAGE, target=CONTACT, upserted="hubspot_upserted", created="hubspot_created"
)


async def push_customers(
    hubspot: HubSpotConnector,
    engine: Engine,
    tally: Tally,
    *,
    business_id: str,
    full: bool = False,
    on_progress: Progress | None = None,
    customers_as: CustomersAs = "contacts",
) -> None:
    """Upsert the pending customers of ``business_id`` as HubSpot contacts (and, with
    ``customers_as="companies"``, companies with their contacts associated) and store
    each one's ids; archive what no active customer stands for any more
    (``customers_archive``). Counted in ``tally``; item failures are counted and logged;
    an authentication, authorization or open-breaker failure raises its
    ``IntegrationError``."""
    as_companies = customers_as == "companies"
    run = PushRun(hubspot, engine, business_id, full, tally, on_progress)
    # Customers whose company (or its link) failed: left pending for the next run.
    held: set[str] = set()

    async def companies_first(run: PushRun) -> int:
        if as_companies:
            mark_companyless_pending(engine, business_id)
            held.update(await push_companies(run, run.condition))
        return 0

    async def without_email(run: PushRun) -> int:
        # No email at all: nothing to send, settled in one statement once the contacts
        # they pointed at are let go.
        condition = and_(run.condition, customers.c.email.is_(None))
        skipped = await _settle_without_email(run, condition)
        tally["hubspot_skipped"] = skipped
        _leave_pending(engine, business_id, held)
        return skipped

    async def send(run: PushRun, emails: list[dict[str, Any]]) -> int:
        rows = _with_email(engine, business_id, [str(e["email"]) for e in emails])
        await _send_contacts(run, emails, rows, held, as_companies=as_companies)
        # Right after this round's stamps: a run killed later still retries them.
        _leave_pending(engine, business_id, held)
        return sum(1 for r in rows if _is_pending(r, full))

    await push(STAGE, run, send=send, prepare=companies_first, opening=without_email)
    retired = await retire_obsolete(hubspot, engine, business_id)
    tally.add("hubspot_archived", retired.contacts)
    tally.add("hubspot_companies_archived", retired.companies)
    tally.add("hubspot_failed", retired.failed)


def _with_email(engine: Engine, business_id: str, emails: list[str]) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [
            dict(r._mapping)
            for r in conn.execute(
                select(customers).where(_active(business_id), customers.c.email.in_(emails))
            )
        ]


async def _send_contacts(
    run: PushRun,
    emails: list[dict[str, Any]],
    rows: list[dict[str, Any]],
    held: set[str],
    *,
    as_companies: bool,
) -> None:
    """One round of emails: a contact per usable one, the customers sharing it merged."""
    hubspot, engine, business_id = run.hubspot, run.engine, run.business_id
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(str(row["email"]), []).append(row)
    sendable: list[list[dict[str, Any]]] = []
    unusable: list[dict[str, Any]] = []
    for email in (str(e["email"]) for e in emails):
        group = groups.get(email, [])
        if normalize_email(email) is None:
            unusable.extend(r for r in group if _is_pending(r, run.full))
        else:
            sendable.append(group)
    run.tally.add("hubspot_skipped", len(unusable))
    await _let_go_of_contacts(run, unusable, {})
    write_hubspot_ids(
        engine, customers, business_id, [(r["unleashed_guid"], None) for r in unusable]
    )
    # Last one wins: the most recently modified customer speaks for the contact.
    winners = [
        max(g, key=lambda r: (r["unleashed_modified_at"] or _NEVER, r["unleashed_guid"]))
        for g in sendable
    ]
    run.tally.add("hubspot_merged", sum(len(g) - 1 for g in sendable))
    if not winners:
        return
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
    # Before the new ids are written: a run killed in between archives again rather than
    # forgetting which contact to archive.
    await _let_go_of_contacts(run, placed, contact_of)
    write_hubspot_ids(engine, customers, business_id, list(contact_of.items()))
    if as_companies:
        linked = await link_contacts(hubspot, business_id, placed, contact_of, held)
        run.tally.add("hubspot_failed", len(linked))
        held |= linked
    # Customers' emails are personal data: refusals name Guids, not addresses.
    tally_upserts(_UPSERT, run, winners, outcomes)


async def _let_go_of_contacts(
    run: PushRun, rows: list[dict[str, Any]], contact_of: Mapping[str, str]
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
    hubspot, business_id = run.hubspot, run.business_id
    archived, result = await archive_unused(
        hubspot,
        run.engine,
        business_id=business_id,
        object_type=OBJECT_TYPE,
        column="hubspot_id",
        ids=set(before.values()),
        leaving=[str(r["unleashed_guid"]) for r in rows],
        keep=set(contact_of.values()),
    )
    run.tally.add("hubspot_archived", result.archived)
    run.tally.add("hubspot_failed", result.failed)
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
        refused = [o for o in outcomes if not o.ok]
        run.tally.add("hubspot_failed", len(refused))
        log_refused(
            hubspot,
            business_id,
            [refusal(stale[o.index][0], "contact -> company link", o.error) for o in refused],
            operation="sync_customers",
            message=f"{len(refused)} stale contact -> company link(s) of {business_id} could "
            "not be removed",
        )


async def _settle_without_email(run: PushRun, condition: Any) -> int:
    engine = run.engine
    with engine.connect() as conn:
        pointing = [
            dict(r._mapping)
            for r in conn.execute(
                select(customers).where(condition, customers.c.hubspot_id.is_not(None))
            )
        ]
    await _let_go_of_contacts(run, pointing, {})
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
