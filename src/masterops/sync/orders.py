"""``ops sync orders``: Unleashed sales orders and their lines into the platform database,
then into HubSpot as deals with line items.

Safe to kill and rerun, by construction (as the inventory sync):

- each page of orders is written in one transaction, orders keyed by business + order
  Guid and lines by business + order Guid + line number; an order's lines are replaced
  (lines it no longer has are deleted), so a page written twice is stored once;
- the watermark (when the last *successful* run started) moves only after every stage
  succeeded, so a run killed or failed anywhere is redone from the old watermark;
- deals and line items are upserted in HubSpot by unique Guid properties (see
  ``orders_hubspot``), so resending never duplicates them.

Every status is asked for, Deleted included (the API leaves Deleted out by default):
an order deleted after it became a deal must reach HubSpot as a lost deal.

Unleashed compares ``modifiedSince`` by UTC day, so an incremental run re-reads the whole
day of the watermark: the upserts make those repeats harmless, and the counts of written
records count each Guid once.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, delete, select

from masterops.db.tables import order_lines, orders
from masterops.db.upsert import upsert
from masterops.integrations.hubspot import HubSpotConnector
from masterops.integrations.unleashed import (
    ORDER_STATUSES,
    SALES_ORDERS,
    SalesOrder,
    UnleashedConnector,
    sales_orders_query,
)
from masterops.integrations.unleashed.queries import DEFAULT_PAGE_SIZE, check_page_size
from masterops.observability.events import Level, LogEvent
from masterops.sync.common import (
    Progress,
    parse_watermark,
    redacted_message,
    walk_pages,
)
from masterops.sync.orders_hubspot import Labels, push_orders
from masterops.sync.state import RunStatus, finish_run, get_watermark, set_watermark, start_run

ENTITY = "orders"
STAGES = ("orders", "hubspot")

__all__ = ["ENTITY", "STAGES", "OrderSyncResult", "Progress", "sync_orders"]

_ORDER_KEYS = ["business_id", "unleashed_guid"]
# The HubSpot columns belong to the HubSpot stage: re-reading an order from Unleashed
# must not forget which deal it became.
_ORDER_UPDATE = [
    "order_number",
    "order_date",
    "required_date",
    "status",
    "customer_guid",
    "customer_code",
    "warehouse_code",
    "currency",
    "sub_total",
    "tax_total",
    "total",
    "unleashed_modified_at",
    "updated_at",
]
_LINE_KEYS = ["business_id", "order_guid", "line_number"]
_LINE_UPDATE = [
    "line_guid",
    "product_guid",
    "product_code",
    "quantity",
    "unit_price",
    "discount_rate",
    "line_total",
    "line_tax",
    "updated_at",
]


@dataclass(frozen=True, slots=True)
class OrderSyncResult:
    """What a finished run did. A failed run raises instead; its ``sync_runs`` row says
    how far it got."""

    business_id: str
    run_id: int
    status: RunStatus
    full: bool
    watermark_before: str | None
    watermark_after: str | None
    orders_fetched: int
    orders_written: int
    lines_written: int
    hubspot_enabled: bool
    deals_upserted: int
    deals_created: int
    line_items_upserted: int
    associations_created: int
    hubspot_failed: int
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

    stage: str = "orders"
    orders_fetched: int = 0
    orders_written: int = 0
    lines_written: int = 0
    deals_upserted: int = 0
    deals_created: int = 0
    line_items_upserted: int = 0
    associations_created: int = 0
    hubspot_failed: int = 0
    seen_orders: set[str] = field(default_factory=set)
    seen_lines: set[tuple[str, int]] = field(default_factory=set)
    # Names the orders table does not keep, read from this run's pages for HubSpot.
    labels: Labels = field(default_factory=Labels)

    def counts(self) -> dict[str, int]:
        return {
            "orders_fetched": self.orders_fetched,
            "orders_written": self.orders_written,
            "lines_written": self.lines_written,
            "deals_upserted": self.deals_upserted,
            "deals_created": self.deals_created,
            "line_items_upserted": self.line_items_upserted,
            "associations_created": self.associations_created,
            "hubspot_failed": self.hubspot_failed,
        }


async def sync_orders(
    unleashed: UnleashedConnector,
    engine: Engine,
    *,
    business_id: str,
    hubspot: HubSpotConnector | None = None,
    full: bool = False,
    page_size: int = DEFAULT_PAGE_SIZE,
    on_progress: Progress | None = None,
) -> OrderSyncResult:
    """Sync one business's Unleashed sales orders into ``orders`` and ``order_lines``
    and, with ``hubspot``, into HubSpot deals with line items.

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
        tally.stage = "orders"
        await walk_pages(
            unleashed,
            SALES_ORDERS,
            sales_orders_query(order_status=ORDER_STATUSES, modified_since=since),
            page_size=page_size,
            on_progress=on_progress,
            stage="orders",
            store=lambda page: _store_orders(engine, business_id, page, tally),
        )
        if hubspot is not None:
            tally.stage = "hubspot"
            counts = await push_orders(
                hubspot,
                engine,
                business_id=business_id,
                full=full,
                labels=tally.labels,
                on_progress=on_progress,
            )
            tally.deals_upserted = counts.deals_upserted
            tally.deals_created = counts.deals_created
            tally.line_items_upserted = counts.line_items_upserted
            tally.associations_created = counts.associations_created
            tally.hubspot_failed = counts.failed
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
            f"orders sync of {business_id} failed in the {message}",
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
    result = OrderSyncResult(
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
    # Unleashed spells Guids in either case; one spelling keeps one row per record.
    return value.strip().lower()


def _optional_guid(value: str | None) -> str | None:
    return _guid(value) if value else None


def _order_row(business_id: str, order: SalesOrder, now: datetime) -> dict[str, Any]:
    customer = order.customer
    return {
        "business_id": business_id,
        "unleashed_guid": _guid(order.guid),
        # The column is required; an order without a number is still an order.
        "order_number": order.order_number or "",
        "order_date": order.order_date,
        "required_date": order.required_date,
        "status": order.order_status,
        "customer_guid": _optional_guid(customer.guid),
        "customer_code": customer.customer_code,
        "warehouse_code": order.warehouse.warehouse_code if order.warehouse else None,
        "currency": order.currency.currency_code if order.currency else None,
        "sub_total": order.sub_total,
        "tax_total": order.tax_total,
        "total": order.total,
        "unleashed_modified_at": order.last_modified_on,
        "updated_at": now,
    }


def _line_rows(
    business_id: str, order: SalesOrder, now: datetime, labels: Labels
) -> dict[int, dict[str, Any]]:
    order_guid = _guid(order.guid)
    rows: dict[int, dict[str, Any]] = {}
    for position, line in enumerate(order.sales_order_lines, start=1):
        # LineNumber is the key; the position stands in if the service ever omits it.
        number = line.line_number if line.line_number is not None else position
        product_guid = _optional_guid(line.product.guid)
        if product_guid and line.product.product_description:
            labels.products[product_guid] = line.product.product_description
        rows[number] = {
            "business_id": business_id,
            "order_guid": order_guid,
            "line_number": number,
            "line_guid": _optional_guid(line.guid),
            "product_guid": product_guid,
            "product_code": line.product.product_code,
            "quantity": line.order_quantity,
            "unit_price": line.unit_price,
            "discount_rate": line.discount_rate,
            "line_total": line.line_total,
            "line_tax": line.line_tax,
            "updated_at": now,
        }
    return rows


def _store_orders(
    engine: Engine, business_id: str, page: Sequence[SalesOrder], tally: _Tally
) -> None:
    now = datetime.now(UTC)
    # Keyed by Guid: a Guid twice in one statement is an error on PostgreSQL's ON CONFLICT
    # (records can move between pages during a walk). The last reading wins.
    order_rows: dict[str, dict[str, Any]] = {}
    line_rows: dict[str, dict[int, dict[str, Any]]] = {}
    for order in page:
        row = _order_row(business_id, order, now)
        guid = row["unleashed_guid"]
        order_rows[guid] = row
        line_rows[guid] = _line_rows(business_id, order, now, tally.labels)
        if row["customer_guid"] and order.customer.customer_name:
            tally.labels.customers[row["customer_guid"]] = order.customer.customer_name
    all_lines = [line for lines in line_rows.values() for line in lines.values()]
    with engine.begin() as conn:
        upsert(conn, orders, list(order_rows.values()), keys=_ORDER_KEYS, update=_ORDER_UPDATE)
        upsert(conn, order_lines, all_lines, keys=_LINE_KEYS, update=_LINE_UPDATE)
        _delete_dropped_lines(conn, business_id, line_rows)
    tally.orders_fetched += len(page)
    tally.seen_orders.update(order_rows)
    tally.orders_written = len(tally.seen_orders)
    tally.seen_lines.update((line["order_guid"], line["line_number"]) for line in all_lines)
    tally.lines_written = len(tally.seen_lines)


def _delete_dropped_lines(
    conn: Connection, business_id: str, line_rows: dict[str, dict[int, dict[str, Any]]]
) -> None:
    """Delete the stored lines these orders no longer have.

    Found in Python, deleted by key: one OR of a condition per order would nest past
    SQLite's expression depth limit on a page of 1000 orders."""
    stored = conn.execute(
        select(order_lines.c.order_guid, order_lines.c.line_number).where(
            order_lines.c.business_id == business_id,
            order_lines.c.order_guid.in_(list(line_rows)),
        )
    )
    dropped = [
        {"b_order": guid, "b_line": number}
        for guid, number in stored
        if number not in line_rows.get(guid, {})
    ]
    if dropped:
        conn.execute(
            delete(order_lines).where(
                order_lines.c.business_id == business_id,
                order_lines.c.order_guid == bindparam("b_order"),
                order_lines.c.line_number == bindparam("b_line"),
            ),
            dropped,
        )


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
        fetched=tally.orders_fetched,
        written=tally.orders_written + tally.lines_written,
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
    # original error is the one worth raising (and the row stays "running", which the
    # next run marks interrupted).
    with contextlib.suppress(Exception), engine.begin() as conn:
        _finish(conn, run_id, status, tally, watermark=watermark, error_message=message)


def _summary_text(result: OrderSyncResult) -> str:
    text = (
        f"orders sync of {result.business_id}: {result.orders_written} orders, "
        f"{result.lines_written} lines written"
    )
    if result.hubspot_enabled:
        text += (
            f"; HubSpot {result.deals_upserted} deals upserted ({result.deals_created} new), "
            f"{result.line_items_upserted} line items, "
            f"{result.associations_created} associations, {result.hubspot_failed} failed"
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
            operation="sync_orders",
            level=level,
            status=status,
            message=message,
            details=details,
            duration_ms=(time.monotonic() - started) * 1000.0,
            business_id=business_id,
        )
    )
