"""``ops sync customers``: Unleashed customers into the platform database, then into
HubSpot contacts.

Built like the inventory sync (``sync.inventory``), and safe to kill and rerun for the
same reasons:

- each page of customers is upserted in its own transaction, keyed by business +
  customer Guid, so a page written twice is stored once;
- the watermark (when the last *successful* run started) moves only after every stage
  succeeded, so a run killed or failed anywhere is redone from the old watermark;
- HubSpot contacts are upserted by their unique ``email`` (see ``customers_hubspot``), and
  a wholesale business's companies by their unique ``unleashed_customer_guid`` (see
  ``customers_companies``), so resending never duplicates them.

What a customer becomes in HubSpot is the registry's ``customers_as`` for the business:
"contacts" (retail) or "companies" (wholesale: a company per customer, with its contact
associated to it).

Obsolete customers are read too (``includeObsolete``): a customer turned obsolete must
be marked so in the mirror, not left looking active, and what it was in HubSpot is
archived by the rule in ``customers_archive``: a contact or company no active customer of
the business points at any more is archived (so is the contact of an old email).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine

from masterops.config import CustomersAs
from masterops.db.tables import customers
from masterops.db.upsert import upsert
from masterops.integrations.hubspot import HubSpotConnector
from masterops.integrations.unleashed import (
    CUSTOMERS,
    Customer,
    UnleashedConnector,
    customers_query,
)
from masterops.integrations.unleashed.queries import DEFAULT_PAGE_SIZE, check_page_size

# The page walk (``common``) and the recorded run around the stages (``runs``) are the
# inventory sync's, unchanged: one "how an Unleashed sync reads and records", not several.
from masterops.sync.common import Progress, guid_key, walk_pages
from masterops.sync.customers_hubspot import normalize_email, push_customers
from masterops.sync.runs import Count, SyncKind, SyncResult, Tally, recorded_run

ENTITY = "customers"
STAGES = ("customers", "hubspot")
KIND = SyncKind(
    entity=ENTITY,
    operation="sync_customers",
    label="customer sync",
    counts=(
        Count("customers_fetched", "fetched"),
        Count("customers_written", "written", "{} customers written"),
        Count("hubspot_upserted", None, "{} contacts upserted", "hubspot"),
        Count("hubspot_created", None, " ({} new)", "hubspot"),
        Count("hubspot_failed", "failed", ", {} failed", "hubspot"),
        #: Sendable customers with no usable email: stored, never sent.
        Count("hubspot_skipped", None, ", {} without email", "hubspot"),
        #: Customers whose email another customer of the business also has: they share
        #: one contact, whose properties are the most recently modified customer's.
        Count("hubspot_merged", None, ", {} sharing one", "hubspot"),
        #: Contacts no active customer stands for any more (``customers_archive``).
        Count("hubspot_archived", None, ", {} archived", "hubspot"),
        #: Companies of a wholesale business (``customers_as = "companies"``).
        Count("hubspot_companies_upserted", None, "; {} companies upserted", "companies"),
        Count("hubspot_companies_created", None, " ({} new)", "companies"),
        Count("hubspot_companies_archived", None, ", {} archived", "companies"),
    ),
)

__all__ = ["ENTITY", "KIND", "STAGES", "Progress", "sync_customers"]

_KEYS = ["business_id", "unleashed_guid"]
# The HubSpot columns belong to the HubSpot stage: re-reading a customer from Unleashed
# must not forget which contact it became.
_UPDATE = [
    "customer_code",
    "customer_name",
    "email",
    "first_name",
    "last_name",
    "currency",
    "obsolete",
    "unleashed_modified_at",
    "updated_at",
]


async def sync_customers(
    unleashed: UnleashedConnector,
    engine: Engine,
    *,
    business_id: str,
    hubspot: HubSpotConnector | None = None,
    full: bool = False,
    page_size: int = DEFAULT_PAGE_SIZE,
    on_progress: Progress | None = None,
    customers_as: CustomersAs = "contacts",
) -> SyncResult:
    """Sync one business's Unleashed customers into ``customers`` and, with ``hubspot``,
    its active customers with an email into HubSpot contacts, and with
    ``customers_as="companies"`` every active customer into a company too.

    Incremental unless ``full``: only what Unleashed changed since the day the last
    successful run started. HubSpot items refused one by one are counted
    (``hubspot_failed``) and retried by the next run; any other failure marks the run
    failed, keeps the watermark and re-raises.
    """
    check_page_size(page_size)  # a bad size is the caller's mistake, not a failed run
    seen: set[str] = set()

    # This sync's own work; recorded_run wraps it in the run bookkeeping.
    async def stages(tally: Tally, since: datetime | None) -> None:
        tally.stage = "customers"
        await walk_pages(
            unleashed,
            CUSTOMERS,
            customers_query(modified_since=since, include_obsolete=True),
            page_size=page_size,
            on_progress=on_progress,
            stage="customers",
            engine=engine,
            store=lambda conn, page: _store_customers(conn, business_id, page, tally, seen),
        )
        if hubspot is not None:
            tally.stage = "hubspot"
            await push_customers(
                hubspot,
                engine,
                tally,
                business_id=business_id,
                full=full,
                on_progress=on_progress,
                customers_as=customers_as,
            )

    return await recorded_run(
        KIND,
        unleashed,
        engine,
        business_id=business_id,
        full=full,
        stages=stages,
        first_stage="customers",
        hubspot=hubspot,
    )


# -- writing ------------------------------------------------------------------------------


def _text(value: str | None) -> str | None:
    """Trimmed text, None for blank: an empty name is no name."""
    if value is None:
        return None
    value = value.strip()
    return value or None


def customer_row(business_id: str, customer: Customer, now: datetime) -> dict[str, Any]:
    """The ``customers`` row of one Unleashed customer (without the HubSpot columns)."""
    raw_email = _text(customer.email)
    return {
        "business_id": business_id,
        "unleashed_guid": guid_key(customer.guid),
        "customer_code": customer.customer_code,
        "customer_name": _text(customer.customer_name),
        # Stored normalized when usable, so the HubSpot stage can group customers sharing
        # a contact in SQL; an unusable one is kept as written, for a person to fix.
        "email": normalize_email(raw_email) or raw_email,
        "first_name": _text(customer.contact_first_name),
        "last_name": _text(customer.contact_last_name),
        "currency": customer.currency.currency_code if customer.currency else None,
        "obsolete": customer.obsolete,
        "unleashed_modified_at": customer.last_modified_on,
        "updated_at": now,
    }


def _store_customers(
    conn: Connection, business_id: str, page: Sequence[Customer], tally: Tally, seen: set[str]
) -> None:
    now = datetime.now(UTC)
    # Keyed by Guid: a Guid twice in one statement is an error on PostgreSQL's ON CONFLICT.
    rows = {row["unleashed_guid"]: row for row in (customer_row(business_id, c, now) for c in page)}
    upsert(conn, customers, list(rows.values()), keys=_KEYS, update=_UPDATE)
    tally.add("customers_fetched", len(page))
    seen.update(rows)
    tally["customers_written"] = len(seen)
