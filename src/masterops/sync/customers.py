"""``ops sync customers``: Unleashed customers into the platform database, then into
HubSpot contacts.

Built like the inventory sync (``sync.inventory``), and safe to kill and rerun for the
same reasons:

- each page of customers is upserted in its own transaction, keyed by business +
  customer Guid, so a page written twice is stored once;
- the watermark (when the last *successful* run started) moves only after every stage
  succeeded, so a run killed or failed anywhere is redone from the old watermark;
- HubSpot contacts are upserted by their unique ``email`` (see ``customers_hubspot``), so
  resending never duplicates them.

Obsolete customers are read too (``includeObsolete``): a customer turned obsolete must
be marked so in the mirror, not left looking active.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine

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
from masterops.observability.events import Level, LogEvent

# The page walk, watermark reading and redaction are the inventory sync's, unchanged:
# one implementation of "how an Unleashed sync reads and records", not two drifting ones.
from masterops.sync.common import (
    Progress,
    parse_watermark,
    redacted_message,
    walk_pages,
)
from masterops.sync.customers_hubspot import normalize_email, push_customers
from masterops.sync.state import RunStatus, finish_run, get_watermark, set_watermark, start_run

ENTITY = "customers"
STAGES = ("customers", "hubspot")

__all__ = ["ENTITY", "STAGES", "CustomerSyncResult", "Progress", "sync_customers"]

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


@dataclass(frozen=True, slots=True)
class CustomerSyncResult:
    """What a finished run did. A failed run raises instead; its ``sync_runs`` row says
    how far it got."""

    business_id: str
    run_id: int
    status: RunStatus
    full: bool
    watermark_before: str | None
    watermark_after: str | None
    customers_fetched: int
    customers_written: int
    hubspot_enabled: bool
    hubspot_upserted: int
    hubspot_created: int
    hubspot_failed: int
    #: Sendable customers with no usable email: stored, never sent.
    hubspot_skipped: int
    #: Customers whose email another customer of the business also has: they share one
    #: contact, whose properties are the most recently modified customer's.
    hubspot_merged: int
    duration_ms: float

    @property
    def ok(self) -> bool:
        """Succeeded with no HubSpot item refused (a CLI's exit code)."""
        return self.status == "succeeded" and self.hubspot_failed == 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class _Tally:
    """Counts of a run in progress; what a failed run records too."""

    stage: str = "customers"
    customers_fetched: int = 0
    customers_written: int = 0
    hubspot_upserted: int = 0
    hubspot_created: int = 0
    hubspot_failed: int = 0
    hubspot_skipped: int = 0
    hubspot_merged: int = 0
    seen: set[str] = field(default_factory=set)

    def counts(self) -> dict[str, int]:
        return {
            "customers_fetched": self.customers_fetched,
            "customers_written": self.customers_written,
            "hubspot_upserted": self.hubspot_upserted,
            "hubspot_created": self.hubspot_created,
            "hubspot_failed": self.hubspot_failed,
            "hubspot_skipped": self.hubspot_skipped,
            "hubspot_merged": self.hubspot_merged,
        }


async def sync_customers(
    unleashed: UnleashedConnector,
    engine: Engine,
    *,
    business_id: str,
    hubspot: HubSpotConnector | None = None,
    full: bool = False,
    page_size: int = DEFAULT_PAGE_SIZE,
    on_progress: Progress | None = None,
) -> CustomerSyncResult:
    """Sync one business's Unleashed customers into ``customers`` and, with ``hubspot``,
    its active customers with an email into HubSpot contacts.

    Incremental unless ``full``: only what Unleashed changed since the day the last
    successful run started. HubSpot items refused one by one are counted
    (``hubspot_failed``) and retried by the next run; any other failure marks the run
    failed, keeps the watermark and re-raises.
    """
    check_page_size(page_size)  # a bad size is the caller's mistake, not a failed run
    # The connector's clock, not the machine's: the watermark is compared with the
    # service's dates, and tests run connector and sandbox on one virtual clock.
    started_wall = unleashed.runtime.clock.now()
    started = time.monotonic()
    with engine.begin() as conn:
        before = get_watermark(conn, business_id, ENTITY)
        run_id = start_run(conn, business_id, ENTITY, full=full, watermark=before)
    since = None if full else parse_watermark(before)
    tally = _Tally()
    try:
        tally.stage = "customers"
        await walk_pages(
            unleashed,
            CUSTOMERS,
            customers_query(modified_since=since, include_obsolete=True),
            page_size=page_size,
            on_progress=on_progress,
            stage="customers",
            store=lambda page: _store_customers(engine, business_id, page, tally),
        )
        if hubspot is not None:
            tally.stage = "hubspot"
            counts = await push_customers(
                hubspot, engine, business_id=business_id, full=full, on_progress=on_progress
            )
            tally.hubspot_upserted = counts.upserted
            tally.hubspot_created = counts.created
            tally.hubspot_failed = counts.failed
            tally.hubspot_skipped = counts.skipped
            tally.hubspot_merged = counts.merged
        after = started_wall.isoformat()
        with engine.begin() as conn:
            # One transaction: the watermark never moves without its run being recorded.
            set_watermark(conn, business_id, ENTITY, after, details={"run_id": run_id})
            _finish(conn, run_id, "succeeded", tally, watermark=after)
    except Exception as exc:
        message = redacted_message(f"{tally.stage} stage: {exc}", unleashed, hubspot)
        _finish_quietly(engine, run_id, "failed", tally, before, message)
        _emit_summary(
            unleashed,
            business_id,
            "error",
            "failure",
            f"customer sync of {business_id} failed in the {message}",
            {"run_id": run_id, "stage": tally.stage, **tally.counts()},
            started,
        )
        raise
    except BaseException:
        # Cancelled or interrupted (Ctrl-C): not a failure of the services. A process
        # killed outright leaves "running", which the next start_run marks interrupted.
        _finish_quietly(
            engine, run_id, "interrupted", tally, before, f"interrupted in the {tally.stage} stage"
        )
        raise
    result = CustomerSyncResult(
        business_id=business_id,
        run_id=run_id,
        status="succeeded",
        full=full,
        watermark_before=before,
        watermark_after=after,
        hubspot_enabled=hubspot is not None,
        duration_ms=(time.monotonic() - started) * 1000.0,
        **tally.counts(),
    )
    level: Level = "warn" if result.hubspot_failed else "info"
    _emit_summary(
        unleashed,
        business_id,
        level,
        "success" if result.ok else "partial",
        _summary_text(result),
        result.to_dict(),
        started,
    )
    return result


# -- writing ------------------------------------------------------------------------------


def _guid(value: str) -> str:
    # Unleashed spells Guids in either case; one spelling keeps one row per customer.
    return value.strip().lower()


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
        "unleashed_guid": _guid(customer.guid),
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
    engine: Engine, business_id: str, page: Sequence[Customer], tally: _Tally
) -> None:
    now = datetime.now(UTC)
    # Keyed by Guid: a Guid twice in one statement is an error on PostgreSQL's ON CONFLICT.
    rows = {row["unleashed_guid"]: row for row in (customer_row(business_id, c, now) for c in page)}
    with engine.begin() as conn:
        upsert(conn, customers, list(rows.values()), keys=_KEYS, update=_UPDATE)
    tally.customers_fetched += len(page)
    tally.seen.update(rows)
    tally.customers_written = len(tally.seen)


# -- bookkeeping --------------------------------------------------------------------------


def _finish(
    conn: Connection,
    run_id: int,
    status: RunStatus,
    tally: _Tally,
    *,
    watermark: str | None,
    error_message: str | None = None,
) -> None:
    finish_run(
        conn,
        run_id,
        status,
        fetched=tally.customers_fetched,
        written=tally.customers_written,
        failed=tally.hubspot_failed,
        watermark=watermark,
        error_message=error_message,
        details={"stage": tally.stage, **tally.counts()},
    )


def _finish_quietly(
    engine: Engine,
    run_id: int,
    status: RunStatus,
    tally: _Tally,
    watermark: str | None,
    message: str,
) -> None:
    # Recording the failure must not hide it: if the database is what failed, the
    # original error is the one worth raising.
    with contextlib.suppress(Exception), engine.begin() as conn:
        _finish(conn, run_id, status, tally, watermark=watermark, error_message=message)


def _summary_text(result: CustomerSyncResult) -> str:
    text = f"customer sync of {result.business_id}: {result.customers_written} customers written"
    if result.hubspot_enabled:
        text += (
            f"; HubSpot {result.hubspot_upserted} contacts upserted "
            f"({result.hubspot_created} new), {result.hubspot_failed} failed, "
            f"{result.hubspot_skipped} without email, {result.hubspot_merged} sharing one"
        )
    return text


def _emit_summary(
    unleashed: UnleashedConnector,
    business_id: str,
    level: Level,
    status: str,
    message: str,
    details: dict[str, Any],
    started: float,
) -> None:
    unleashed.runtime.hub.emit(
        LogEvent(
            source="sync",
            service="unleashed",
            operation="sync_customers",
            level=level,
            status=status,
            message=message,
            details=details,
            duration_ms=(time.monotonic() - started) * 1000.0,
            business_id=business_id,
        )
    )
