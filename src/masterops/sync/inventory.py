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

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, select, update

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
from masterops.sync.common import Progress, guid_key, walk_pages
from masterops.sync.inventory_hubspot import push_products
from masterops.sync.runs import Count, SyncKind, SyncResult, Tally, recorded_run

ENTITY = "inventory"
STAGES = ("products", "stock", "hubspot")
#: ``on_progress(stage, done, total)``: ``stage`` is one of ``STAGES``.
KIND = SyncKind(
    entity=ENTITY,
    operation="sync_inventory",
    label="inventory sync",
    counts=(
        Count("products_fetched", "fetched"),
        Count("products_written", "written", "{} products"),
        Count("stock_fetched", "fetched"),
        Count("stock_written", "written", ", {} stock lines written"),
        Count("hubspot_upserted", None, "{} upserted", "hubspot"),
        Count("hubspot_created", None, " ({} new)", "hubspot"),
        Count("hubspot_failed", "failed", ", {} failed", "hubspot"),
    ),
)

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


async def sync_inventory(
    unleashed: UnleashedConnector,
    engine: Engine,
    *,
    business_id: str,
    hubspot: HubSpotConnector | None = None,
    full: bool = False,
    page_size: int = DEFAULT_PAGE_SIZE,
    on_progress: Progress | None = None,
) -> SyncResult:
    """Sync one business's Unleashed products and stock into ``products`` and
    ``stock_levels`` and, with ``hubspot``, its sellable products into HubSpot.

    Incremental unless ``full``: only what Unleashed changed since the day the last
    successful run started. Obsolete products are stored but never sent to HubSpot.
    HubSpot items refused one by one are counted (``hubspot_failed``) and retried by the
    next run; any other failure marks the run failed, keeps the watermark and re-raises.
    """
    check_page_size(page_size)  # a bad size is the caller's mistake, not a failed run
    # Each Guid counted once however often a walk meets it (see the module doc).
    seen_products: set[str] = set()
    seen_stock: set[tuple[str, str]] = set()

    # This sync's own work; recorded_run wraps it in the run bookkeeping.
    async def stages(tally: Tally, since: datetime | None) -> None:
        tally.stage = "products"
        await walk_pages(
            unleashed,
            PRODUCTS,
            products_query(modified_since=since, include_obsolete=True),
            page_size=page_size,
            on_progress=on_progress,
            stage="products",
            engine=engine,
            store=lambda conn, page: _store_products(conn, business_id, page, tally, seen_products),
        )
        tally.stage = "stock"
        await walk_pages(
            unleashed,
            STOCK_ON_HAND,
            stock_query(modified_since=since),
            page_size=page_size,
            on_progress=on_progress,
            stage="stock",
            engine=engine,
            store=lambda conn, page: _store_stock(conn, business_id, page, tally, seen_stock),
        )
        if hubspot is not None:
            tally.stage = "hubspot"
            await push_products(
                hubspot, engine, tally, business_id=business_id, full=full, on_progress=on_progress
            )

    return await recorded_run(
        KIND,
        unleashed,
        engine,
        business_id=business_id,
        full=full,
        stages=stages,
        first_stage="products",
        hubspot=hubspot,
    )


# -- writing ------------------------------------------------------------------------------


def _store_products(
    conn: Connection, business_id: str, page: Sequence[Product], tally: Tally, seen: set[str]
) -> None:
    now = datetime.now(UTC)
    # Keyed by Guid: a Guid twice in one statement is an error on PostgreSQL's ON CONFLICT.
    rows: dict[str, dict[str, Any]] = {}
    for p in page:
        guid = guid_key(p.guid)
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
    upsert(conn, products, list(rows.values()), keys=_PRODUCT_KEYS, update=_PRODUCT_UPDATE)
    tally.add("products_fetched", len(page))
    seen.update(rows)
    tally["products_written"] = len(seen)


def _store_stock(
    conn: Connection,
    business_id: str,
    page: Sequence[StockOnHand],
    tally: Tally,
    seen: set[tuple[str, str]],
) -> None:
    now = datetime.now(UTC)
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for line in page:
        guid = guid_key(line.product_guid)
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
    restocked = _restocked(conn, business_id, rows)
    upsert(conn, stock_levels, list(rows.values()), keys=_STOCK_KEYS)
    if restocked:
        # HubSpot products carry their stock on hand: a product whose stock changed
        # is pending for the HubSpot stage (``updated_at > hubspot_synced_at``) though
        # Unleashed did not change the product itself.
        conn.execute(
            update(products)
            .where(
                products.c.business_id == business_id,
                products.c.unleashed_guid.in_(sorted(restocked)),
            )
            .values(updated_at=now)
        )
    tally.add("stock_fetched", len(page))
    seen.update(rows)
    tally["stock_written"] = len(seen)


def _restocked(
    conn: Connection, business_id: str, rows: Mapping[tuple[str, str], Mapping[str, Any]]
) -> set[str]:
    """The product Guids whose quantity on hand in some warehouse differs from what is
    stored (new lines included): re-reading an unchanged day of stock changes nothing."""
    if not rows:
        return set()
    guids = sorted({guid for guid, _ in rows})
    stored = {
        (r.product_guid, r.warehouse_code): r.qty_on_hand
        for r in conn.execute(
            select(
                stock_levels.c.product_guid,
                stock_levels.c.warehouse_code,
                stock_levels.c.qty_on_hand,
            ).where(
                stock_levels.c.business_id == business_id,
                stock_levels.c.product_guid.in_(guids),
            )
        )
    }
    return {
        guid
        for (guid, warehouse), row in rows.items()
        if stored.get((guid, warehouse)) != row["qty_on_hand"]
    }
