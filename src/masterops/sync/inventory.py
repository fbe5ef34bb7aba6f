"""``ops sync inventory``: Unleashed products and stock into the platform database, then
the products into HubSpot.

Safe to kill and rerun, by construction:

- each page of products or stock lines is upserted in its own transaction, keyed by the
  external ids (business + product Guid; business + product Guid + warehouse code), so a
  page written twice is stored once;
- the watermark (when the last *successful* run started) moves only after every stage
  succeeded, so a run killed or failed anywhere is redone from the old watermark;
- HubSpot products are upserted by the unique property ``unleashed_guid`` (see
  ``inventory_hubspot``), so resending never duplicates them.

Unleashed compares ``modifiedSince`` by UTC day, so an incremental run re-reads the whole
day of the watermark (and records may move between pages during a walk): the upserts make
those repeats harmless, and the counts of written records count each Guid once.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine

from masterops.db.tables import products, stock_levels
from masterops.db.upsert import upsert
from masterops.integrations.hubspot import HubSpotConnector
from masterops.integrations.unleashed import (
    PRODUCTS,
    STOCK_ON_HAND,
    Product,
    StockOnHand,
    UnleashedConnector,
    products_query,
    stock_query,
)
from masterops.integrations.unleashed.queries import DEFAULT_PAGE_SIZE, check_page_size
from masterops.observability.events import Level, LogEvent
from masterops.sync.common import (
    Progress,
    parse_watermark,
    redacted_message,
    walk_pages,
)
from masterops.sync.inventory_hubspot import push_products
from masterops.sync.state import RunStatus, finish_run, get_watermark, set_watermark, start_run

ENTITY = "inventory"
STAGES = ("products", "stock", "hubspot")

#: ``on_progress(stage, done, total)``: ``stage`` is one of ``STAGES``; ``total`` is None
#: until the service has said how many records there are.


_PRODUCT_KEYS = ["business_id", "unleashed_guid"]
# The HubSpot columns belong to the HubSpot stage: re-reading a product from Unleashed
# must not forget which HubSpot record it became.
_PRODUCT_UPDATE = [
    "product_code",
    "description",
    "barcode",
    "default_sell_price",
    "product_group",
    "is_obsolete",
    "unleashed_modified_at",
    "updated_at",
]
_STOCK_KEYS = ["business_id", "product_guid", "warehouse_code"]


@dataclass(frozen=True, slots=True)
class InventorySyncResult:
    """What a finished run did. A failed run raises instead; its ``sync_runs`` row says
    how far it got."""

    business_id: str
    run_id: int
    status: RunStatus
    full: bool
    watermark_before: str | None
    watermark_after: str | None
    products_fetched: int
    products_written: int
    stock_fetched: int
    stock_written: int
    hubspot_enabled: bool
    hubspot_upserted: int
    hubspot_created: int
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

    stage: str = "products"
    products_fetched: int = 0
    products_written: int = 0
    stock_fetched: int = 0
    stock_written: int = 0
    hubspot_upserted: int = 0
    hubspot_created: int = 0
    hubspot_failed: int = 0
    seen_products: set[str] = field(default_factory=set)
    seen_stock: set[tuple[str, str]] = field(default_factory=set)

    def counts(self) -> dict[str, int]:
        return {
            "products_fetched": self.products_fetched,
            "products_written": self.products_written,
            "stock_fetched": self.stock_fetched,
            "stock_written": self.stock_written,
            "hubspot_upserted": self.hubspot_upserted,
            "hubspot_created": self.hubspot_created,
            "hubspot_failed": self.hubspot_failed,
        }


async def sync_inventory(
    unleashed: UnleashedConnector,
    engine: Engine,
    *,
    business_id: str,
    hubspot: HubSpotConnector | None = None,
    full: bool = False,
    page_size: int = DEFAULT_PAGE_SIZE,
    on_progress: Progress | None = None,
) -> InventorySyncResult:
    """Sync one business's Unleashed products and stock into ``products`` and
    ``stock_levels`` and, with ``hubspot``, its sellable products into HubSpot.

    Incremental unless ``full``: only what Unleashed changed since the day the last
    successful run started. Obsolete products are stored but never sent to HubSpot.
    HubSpot items refused one by one are counted (``hubspot_failed``) and retried by the
    next run; any other failure marks the run failed, keeps the watermark and re-raises.
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
        tally.stage = "products"
        await walk_pages(
            unleashed,
            PRODUCTS,
            products_query(modified_since=since, include_obsolete=True),
            page_size=page_size,
            on_progress=on_progress,
            stage="products",
            store=lambda page: _store_products(engine, business_id, page, tally),
        )
        tally.stage = "stock"
        await walk_pages(
            unleashed,
            STOCK_ON_HAND,
            stock_query(modified_since=since),
            page_size=page_size,
            on_progress=on_progress,
            stage="stock",
            store=lambda page: _store_stock(engine, business_id, page, tally),
        )
        if hubspot is not None:
            tally.stage = "hubspot"
            counts = await push_products(
                hubspot, engine, business_id=business_id, full=full, on_progress=on_progress
            )
            tally.hubspot_upserted = counts.upserted
            tally.hubspot_created = counts.created
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
            f"inventory sync of {business_id} failed in the {message}",
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
    result = InventorySyncResult(
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


# -- reading pages ------------------------------------------------------------------------


# -- writing ------------------------------------------------------------------------------


def _guid(value: str) -> str:
    # Unleashed spells Guids in either case; one spelling keeps one row per product.
    return value.strip().lower()


def _store_products(
    engine: Engine, business_id: str, page: Sequence[Product], tally: _Tally
) -> None:
    now = datetime.now(UTC)
    # Keyed by Guid: a Guid twice in one statement is an error on PostgreSQL's ON CONFLICT.
    rows: dict[str, dict[str, Any]] = {}
    for p in page:
        guid = _guid(p.guid)
        rows[guid] = {
            "business_id": business_id,
            "unleashed_guid": guid,
            "product_code": p.product_code,
            "description": p.product_description,
            "barcode": p.barcode,
            "default_sell_price": p.default_sell_price,
            "product_group": p.product_group.group_name if p.product_group else None,
            "is_obsolete": p.is_obsolete,
            "unleashed_modified_at": p.last_modified_on,
            "updated_at": now,
        }
    with engine.begin() as conn:
        upsert(conn, products, list(rows.values()), keys=_PRODUCT_KEYS, update=_PRODUCT_UPDATE)
    tally.products_fetched += len(page)
    tally.seen_products.update(rows)
    tally.products_written = len(tally.seen_products)


def _store_stock(
    engine: Engine, business_id: str, page: Sequence[StockOnHand], tally: _Tally
) -> None:
    now = datetime.now(UTC)
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for line in page:
        guid = _guid(line.product_guid)
        # List rows always name their warehouse; a summed row (none) would be "".
        warehouse = line.warehouse_code or ""
        rows[(guid, warehouse)] = {
            "business_id": business_id,
            "product_guid": guid,
            "warehouse_code": warehouse,
            "product_code": line.product_code or "",
            "qty_on_hand": line.qty_on_hand,
            "allocated_qty": line.allocated_qty,
            "available_qty": line.available_qty,
            "on_purchase": line.on_purchase,
            "avg_cost": line.avg_cost,
            "total_cost": line.total_cost,
            "unleashed_modified_at": line.last_modified_on,
            "updated_at": now,
        }
    with engine.begin() as conn:
        upsert(conn, stock_levels, list(rows.values()), keys=_STOCK_KEYS)
    tally.stock_fetched += len(page)
    tally.seen_stock.update(rows)
    tally.stock_written = len(tally.seen_stock)


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
        fetched=tally.products_fetched + tally.stock_fetched,
        written=tally.products_written + tally.stock_written,
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


def _summary_text(result: InventorySyncResult) -> str:
    text = (
        f"inventory sync of {result.business_id}: {result.products_written} products, "
        f"{result.stock_written} stock lines written"
    )
    if result.hubspot_enabled:
        text += (
            f"; HubSpot {result.hubspot_upserted} upserted ({result.hubspot_created} new), "
            f"{result.hubspot_failed} failed"
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
            operation="sync_inventory",
            level=level,
            status=status,
            message=message,
            details=details,
            duration_ms=(time.monotonic() - started) * 1000.0,
            business_id=business_id,
        )
    )
