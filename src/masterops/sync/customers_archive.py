"""The archive rule of the customer sync: what happens in HubSpot to a contact or company
no current customer stands for any more.

The rule: a contact or company the platform pointed a customer at (``customers.hubspot_id``
or ``hubspot_company_id``) is **archived** in HubSpot as soon as no active customer of the
business points at it any more. A customer stops pointing at its contact when it becomes
obsolete, when its email changes (the contact of the new email replaces it) or when it
loses a usable email; it stops pointing at its company when it becomes obsolete. A
contact another active customer still shares (the same email) is kept.

Why archive rather than flag: an archived record leaves HubSpot's lists, searches and
associations (so nobody mails an old address or sells to a closed shop), yet HubSpot keeps
it restorable for 90 days, and an unchanged upsert never matches it again: should the
customer come back, the next sync makes a fresh record.

Order matters for a killed run: the archive is sent *before* the mirror forgets the id, so
a run stopped in between archives again (harmless) rather than losing the id of a record
that would then linger.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Engine, and_, or_, select, update

from masterops.db.tables import customers
from masterops.integrations.hubspot import HubSpotConnector
from masterops.sync.common import log_refused, raise_if_fatal
from masterops.sync.refusals import refusal

#: How a refusal names one record of an object type.
_WHAT = {"contacts": "contact", "companies": "company"}


@dataclass(slots=True)
class ArchiveCounts:
    archived: int = 0
    failed: int = 0
    #: Ids HubSpot refused to archive (logged; a person may archive them by hand).
    refused: list[str] = field(default_factory=list)


def still_used(
    engine: Engine,
    business_id: str,
    column: str,
    ids: Collection[str],
    *,
    leaving: Collection[str],
) -> set[str]:
    """Those of ``ids`` that an active customer of the business other than the ``leaving``
    Guids (the customers letting go of them) points at in ``column``."""
    if not ids:
        return set()
    target = customers.c[column]
    stmt = (
        select(target)
        .distinct()
        .where(
            customers.c.business_id == business_id,
            customers.c.obsolete.is_(False),
            target.in_(sorted(ids)),
        )
    )
    if leaving:
        stmt = stmt.where(customers.c.unleashed_guid.not_in(sorted(leaving)))
    with engine.connect() as conn:
        return {str(v) for v in conn.execute(stmt).scalars()}


async def archive_unused(
    hubspot: HubSpotConnector,
    engine: Engine,
    *,
    business_id: str,
    object_type: str,
    column: str,
    ids: Collection[str],
    leaving: Collection[str],
    keep: Collection[str] = (),
) -> tuple[set[str], ArchiveCounts]:
    """Archive those of ``ids`` (records of ``object_type``) no active customer points at
    once the ``leaving`` customers let go of them; ``keep`` are ids some customer is about
    to point at. Returns the ids archived and the counts. An authentication, authorization
    or open-breaker failure raises; other refusals are counted and logged."""
    candidates = {str(i) for i in ids if i} - {str(k) for k in keep}
    unused = sorted(
        candidates - still_used(engine, business_id, column, candidates, leaving=leaving)
    )
    counts = ArchiveCounts()
    if not unused:
        return set(), counts
    outcomes = await hubspot.batch_archive(object_type, unused)
    raise_if_fatal(outcomes)
    archived = {unused[o.index] for o in outcomes if o.ok}
    counts.archived = len(archived)
    counts.refused = [unused[o.index] for o in outcomes if not o.ok]
    counts.failed = len(counts.refused)
    what = _WHAT.get(object_type, object_type)
    log_refused(
        hubspot,
        business_id,
        [refusal(unused[o.index], f"{what} to archive", o.error) for o in outcomes if not o.ok],
        operation="sync_customers",
        message=f"{counts.failed} {object_type} of {business_id} no customer stands for "
        "could not be archived in HubSpot",
    )
    return archived, counts


@dataclass(slots=True)
class RetiredCounts:
    contacts: int = 0
    companies: int = 0
    failed: int = 0


async def retire_obsolete(
    hubspot: HubSpotConnector, engine: Engine, business_id: str
) -> RetiredCounts:
    """Obsolete customers still pointing at a contact or company: archive what no active
    customer keeps, then forget the ids. A refused archive keeps its id, so the next run
    tries again; a kept (shared) contact is simply forgotten by the obsolete customer."""
    retiring = and_(
        customers.c.business_id == business_id,
        customers.c.obsolete.is_(True),
        or_(customers.c.hubspot_id.is_not(None), customers.c.hubspot_company_id.is_not(None)),
    )
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(select(customers).where(retiring))]
    counts = RetiredCounts()
    if not rows:
        return counts
    refused: dict[str, set[str]] = {}
    for object_type, column in (("contacts", "hubspot_id"), ("companies", "hubspot_company_id")):
        _, result = await archive_unused(
            hubspot,
            engine,
            business_id=business_id,
            object_type=object_type,
            column=column,
            ids={str(r[column]) for r in rows if r[column] is not None},
            # Only active customers keep a record, and these are all obsolete.
            leaving=(),
        )
        if column == "hubspot_id":
            counts.contacts = result.archived
        else:
            counts.companies = result.archived
        counts.failed += result.failed
        refused[column] = set(result.refused)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        for row in rows:
            forget = {
                column: None
                for column in ("hubspot_id", "hubspot_company_id")
                if row[column] is not None and str(row[column]) not in refused[column]
            }
            conn.execute(
                update(customers)
                .where(
                    customers.c.business_id == business_id,
                    customers.c.unleashed_guid == row["unleashed_guid"],
                )
                .values({**forget, "hubspot_synced_at": now})
            )
    return counts
