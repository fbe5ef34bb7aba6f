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

from collections.abc import Sequence
from dataclasses import dataclass, field
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
from masterops.sync.common import Progress, guid_key, walk_pages
from masterops.sync.orders_dropped import record_dropped_lines
from masterops.sync.orders_hubspot import DisplayNames, line_guid, push_orders
from masterops.sync.runs import Count, SyncKind, SyncResult, Tally, recorded_run

ENTITY = "orders"
STAGES = ("orders", "hubspot")
KIND = SyncKind(
    entity=ENTITY,
    operation="sync_orders",
    label="orders sync",
    counts=(
        Count("orders_fetched", "fetched"),
        Count("orders_written", "written", "{} orders"),
        Count("lines_written", "written", ", {} lines written"),
        Count("deals_upserted", None, "{} deals upserted", "hubspot"),
        Count("deals_created", None, " ({} new)", "hubspot"),
        Count("line_items_upserted", None, ", {} line items", "hubspot"),
        Count("associations_created", None, ", {} associations", "hubspot"),
        Count("associations_removed", None, ", {} stale ones removed", "hubspot"),
        Count("line_items_archived", None, ", {} line items archived", "hubspot"),
        Count("hubspot_failed", "failed", ", {} failed", "hubspot"),
    ),
)

__all__ = ["ENTITY", "KIND", "STAGES", "Progress", "store_orders", "sync_orders"]

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


async def sync_orders(
    unleashed: UnleashedConnector,
    engine: Engine,
    *,
    business_id: str,
    hubspot: HubSpotConnector | None = None,
    full: bool = False,
    page_size: int = DEFAULT_PAGE_SIZE,
    on_progress: Progress | None = None,
) -> SyncResult:
    """Sync one business's Unleashed sales orders into ``orders`` and ``order_lines``
    and, with ``hubspot``, into HubSpot deals with line items.

    Incremental unless ``full``: only what Unleashed changed since the day the last
    successful run started. HubSpot items refused one by one are counted
    (``hubspot_failed``) and retried by the next run; any other failure marks the run
    failed, keeps the watermark and re-raises.
    """
    check_page_size(page_size)  # a bad size is the caller's mistake, not a failed run
    seen = _Seen()

    # This sync's own work; recorded_run wraps it in the run bookkeeping.
    async def stages(tally: Tally, since: datetime | None) -> None:
        tally.stage = "orders"
        await walk_pages(
            unleashed,
            SALES_ORDERS,
            sales_orders_query(order_status=ORDER_STATUSES, modified_since=since),
            page_size=page_size,
            on_progress=on_progress,
            stage="orders",
            engine=engine,
            store=lambda conn, page: _store_orders(conn, business_id, page, tally, seen),
        )
        if hubspot is not None:
            tally.stage = "hubspot"
            await push_orders(
                hubspot,
                engine,
                tally,
                business_id=business_id,
                full=full,
                labels=seen.labels,
                on_progress=on_progress,
            )

    return await recorded_run(
        KIND,
        unleashed,
        engine,
        business_id=business_id,
        full=full,
        stages=stages,
        first_stage="orders",
        hubspot=hubspot,
    )


@dataclass(slots=True)
class _Seen:
    """What this run's pages met: each Guid is counted once however often a walk meets
    it, and the display names the orders table does not keep, for HubSpot."""

    orders: set[str] = field(default_factory=set)
    lines: set[tuple[str, int]] = field(default_factory=set)
    labels: DisplayNames = field(default_factory=DisplayNames)


# -- writing ------------------------------------------------------------------------------


def _optional_guid(value: str | None) -> str | None:
    return guid_key(value) if value else None


def _order_row(business_id: str, order: SalesOrder, now: datetime) -> dict[str, Any]:
    customer = order.customer
    return {
        "business_id": business_id,
        "unleashed_guid": guid_key(order.guid),
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
    business_id: str, order: SalesOrder, now: datetime, labels: DisplayNames
) -> dict[int, dict[str, Any]]:
    order_guid = guid_key(order.guid)
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


def store_orders(engine: Engine, business_id: str, page: Sequence[SalesOrder]) -> DisplayNames:
    """Write ``page`` into the mirror exactly as a sync run writes a page of orders (the
    order intake stores a pushed order through here); returns the display names read
    from it, for the HubSpot stage."""
    seen = _Seen()
    with engine.begin() as conn:
        _store_orders(conn, business_id, page, Tally(KIND, "orders"), seen)
    return seen.labels


def _store_orders(
    conn: Connection, business_id: str, page: Sequence[SalesOrder], tally: Tally, seen: _Seen
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
        line_rows[guid] = _line_rows(business_id, order, now, seen.labels)
        if row["customer_guid"] and order.customer.customer_name:
            seen.labels.customers[row["customer_guid"]] = order.customer.customer_name
    read_lines = [(guid, number) for guid, lines in line_rows.items() for number in lines]
    # An order read again unchanged (the order intake stored it first, or the
    # incremental run re-reads the watermark's day) is not rewritten: a new
    # ``updated_at`` would make the HubSpot stage send it again for nothing.
    for guid in _unchanged(conn, business_id, order_rows, line_rows):
        del order_rows[guid], line_rows[guid]
    all_lines = [line for lines in line_rows.values() for line in lines.values()]
    upsert(conn, orders, list(order_rows.values()), keys=_ORDER_KEYS, update=_ORDER_UPDATE)
    # Before the lines are upserted: a line whose Guid changed is seen as dropped.
    _delete_dropped_lines(conn, business_id, line_rows)
    upsert(conn, order_lines, all_lines, keys=_LINE_KEYS, update=_LINE_UPDATE)
    tally.add("orders_fetched", len(page))
    # Counted as read, rewritten or not: "written" is what the mirror now holds of them.
    seen.orders.update(guid_key(order.guid) for order in page)
    tally["orders_written"] = len(seen.orders)
    seen.lines.update(read_lines)
    tally["lines_written"] = len(seen.lines)


def _same(stored: Any, new: Any) -> bool:
    if stored is None or new is None:
        return stored is new
    if isinstance(new, float) and not isinstance(stored, str):
        return float(stored) == new  # a NUMERIC column answers Decimal
    return bool(stored == new)


def _unchanged(
    conn: Connection,
    business_id: str,
    order_rows: dict[str, dict[str, Any]],
    line_rows: dict[str, dict[int, dict[str, Any]]],
) -> list[str]:
    """The Guids of ``order_rows`` already stored with these very values and lines."""
    compared = [c for c in _ORDER_UPDATE if c != "updated_at"]
    line_compared = [c for c in _LINE_UPDATE if c != "updated_at"]
    guids = list(order_rows)
    stored = {
        r.unleashed_guid: r._mapping
        for r in conn.execute(
            select(orders).where(
                orders.c.business_id == business_id, orders.c.unleashed_guid.in_(guids)
            )
        )
    }
    stored_lines: dict[str, dict[int, Any]] = {}
    for r in conn.execute(
        select(order_lines).where(
            order_lines.c.business_id == business_id, order_lines.c.order_guid.in_(guids)
        )
    ):
        stored_lines.setdefault(r.order_guid, {})[r.line_number] = r._mapping
    same: list[str] = []
    for guid, row in order_rows.items():
        old = stored.get(guid)
        if old is None or not all(_same(old[c], row[c]) for c in compared):
            continue
        old_lines, new_lines = stored_lines.get(guid, {}), line_rows[guid]
        if set(old_lines) != set(new_lines):
            continue
        if all(
            _same(old_lines[n][c], line[c]) for n, line in new_lines.items() for c in line_compared
        ):
            same.append(guid)
    return same


def _delete_dropped_lines(
    conn: Connection, business_id: str, line_rows: dict[str, dict[int, dict[str, Any]]]
) -> None:
    """Delete the stored lines these orders no longer have, and record them as dropped
    (``orders_dropped``), so that their HubSpot line items are archived.

    Found in Python, deleted by key: one OR of a condition per order would nest past
    SQLite's expression depth limit on a page of 1000 orders."""
    stored = conn.execute(
        select(
            order_lines.c.order_guid,
            order_lines.c.line_number,
            order_lines.c.line_guid,
            order_lines.c.hubspot_line_item_id,
        ).where(
            order_lines.c.business_id == business_id,
            order_lines.c.order_guid.in_(list(line_rows)),
        )
    )
    gone: list[tuple[str, str, str | None]] = []
    dropped: list[dict[str, Any]] = []
    for row in stored:
        new = line_rows.get(row.order_guid, {}).get(row.line_number)
        if new is None:
            dropped.append({"b_order": row.order_guid, "b_line": row.line_number})
        # A line that lost its row, or kept its number under a new Guid: its line item
        # is no longer the order's.
        old_guid = line_guid(dict(row._mapping))
        if new is None or line_guid(new) != old_guid:
            gone.append((row.order_guid, old_guid, row.hubspot_line_item_id))
    record_dropped_lines(conn, business_id, gone)
    if dropped:
        conn.execute(
            delete(order_lines).where(
                order_lines.c.business_id == business_id,
                order_lines.c.order_guid == bindparam("b_order"),
                order_lines.c.line_number == bindparam("b_line"),
            ),
            dropped,
        )
