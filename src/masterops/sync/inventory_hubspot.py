"""The HubSpot stage of the inventory sync: stored products become HubSpot products.

Which products go is read from the database, not from what this run fetched: every
sellable (not obsolete) product whose row changed after it last reached HubSpot
(``updated_at > hubspot_synced_at``) or that never reached it, or every sellable one with
``full``. A run re-reads (and so re-stamps) everything Unleashed changed since the
watermark, so this is "what changed in this run" plus anything an earlier run failed to
send: a product refused once (a bad value) or left behind by a killed run is sent again
by the next run without the watermark having to wait for it.

Products are matched in HubSpot by the unique custom property ``unleashed_guid``, so a
repeat (a rerun, a retried chunk) updates the record it created instead of duplicating it.

Each product carries its stock on hand (``unleashed_stock_on_hand``, a number property
the platform owns): the sum of ``qty_on_hand`` over its warehouses in ``stock_levels``,
0 when Unleashed has no stock line for it. The stock stage marks a product pending when
its stock changed, so the figure follows the stock without any n8n flow.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, and_, func, or_, select

from masterops.db.tables import products, stock_levels
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

#: The HubSpot product property holding the Unleashed Guid: the upsert's ``idProperty``.
GUID_PROPERTY = "unleashed_guid"
#: The HubSpot product property holding the stock on hand summed over warehouses.
STOCK_PROPERTY = "unleashed_stock_on_hand"
OBJECT_TYPE = "products"
#: Products read from the database and sent per round: several HubSpot batches of 100
#: (sent concurrently by the connector), one write-back transaction.
ROUND_SIZE = 500
#: Failed products named in one warning; the rest are only counted.

# An answer with one of these means no product can get through: the stage (and run) fails
# rather than counting every product as an item failure.


@dataclass(slots=True)
class HubSpotCounts:
    upserted: int = 0
    created: int = 0
    failed: int = 0


#: Every property ``product_properties`` may write: what webhook drift detection owns.
PRODUCT_PROPERTIES = frozenset(
    {GUID_PROPERTY, "name", "hs_sku", "description", "price", STOCK_PROPERTY}
)


def product_properties(row: Mapping[str, Any]) -> dict[str, str]:
    """The HubSpot properties of one ``products`` row (values as HubSpot's text)."""
    code = str(row["product_code"])
    description = row["description"] or ""
    props = {
        GUID_PROPERTY: str(row["unleashed_guid"]),
        "name": description or code,
        "hs_sku": code,
        "description": description,
    }
    price = row["default_sell_price"]
    if price is not None:
        props["price"] = _price_text(float(price))
    if "stock_on_hand" in row:
        props[STOCK_PROPERTY] = _price_text(float(row["stock_on_hand"] or 0))
    return props


def _price_text(price: float) -> str:
    # repr-style shortest text ("12.5", not "12.500000"); whole prices without ".0".
    return str(int(price)) if price.is_integer() else repr(price)


def _pending(business_id: str, full: bool) -> Any:
    sellable = and_(products.c.business_id == business_id, products.c.is_obsolete.is_(False))
    if full:
        return sellable
    return and_(
        sellable,
        or_(
            products.c.hubspot_synced_at.is_(None),
            products.c.updated_at > products.c.hubspot_synced_at,
        ),
    )


def _stock_on_hand(business_id: str) -> Any:
    """The product's quantity on hand summed over its warehouses (a correlated subquery:
    one round's products, not the whole stock table)."""
    return (
        select(func.coalesce(func.sum(stock_levels.c.qty_on_hand), 0.0))
        .where(
            stock_levels.c.business_id == business_id,
            stock_levels.c.product_guid == products.c.unleashed_guid,
        )
        .scalar_subquery()
        .label("stock_on_hand")
    )


async def push_products(
    hubspot: HubSpotConnector,
    engine: Engine,
    *,
    business_id: str,
    full: bool = False,
    on_progress: Progress | None = None,
    round_size: int = ROUND_SIZE,
) -> HubSpotCounts:
    """Upsert the pending products of ``business_id`` into HubSpot and store each one's
    HubSpot id. Item failures are counted and logged; an authentication, authorization or
    open-breaker failure raises its ``IntegrationError``."""
    await ensure_property_if_pending(
        hubspot,
        engine,
        _pending(business_id, full),
        OBJECT_TYPE,
        GUID_PROPERTY,
        label="Unleashed GUID",
        unique=True,
        description="The Unleashed product Guid; set by Master-Ops inventory sync.",
    )
    await ensure_property_if_pending(
        hubspot,
        engine,
        _pending(business_id, full),
        OBJECT_TYPE,
        STOCK_PROPERTY,
        label="Stock on hand",
        type="number",
        field_type="number",
        description="Unleashed quantity on hand over all warehouses; set by Master-Ops "
        "inventory sync.",
    )
    condition = _pending(business_id, full)
    with engine.connect() as conn:
        total = int(conn.execute(select(func.count()).where(condition)).scalar_one())
    counts = HubSpotCounts()
    if on_progress is not None:
        on_progress("hubspot", 0, total)
    done = 0
    after: str | None = None
    while True:
        # Keyset paging by Guid: rows stamped as sent drop out of ``condition`` meanwhile,
        # which an OFFSET would trip over.
        stmt = (
            select(
                products.c.unleashed_guid,
                products.c.product_code,
                products.c.description,
                products.c.default_sell_price,
                _stock_on_hand(business_id),
            )
            .where(condition)
            .order_by(products.c.unleashed_guid)
            .limit(round_size)
        )
        if after is not None:
            stmt = stmt.where(products.c.unleashed_guid > after)
        with engine.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(stmt)]
        if not rows:
            break
        after = str(rows[-1]["unleashed_guid"])
        items = [product_properties(r) for r in rows]
        outcomes = await hubspot.batch_upsert(OBJECT_TYPE, items, id_property=GUID_PROPERTY)
        raise_if_fatal(outcomes)
        write_hubspot_ids(
            engine,
            products,
            business_id,
            ((rows[o.index]["unleashed_guid"], o.record.id) for o in outcomes
             if o.ok and o.record is not None),
        )  # fmt: skip
        failures = tally_upserts(counts, outcomes)
        if failures:
            log_refused(
                hubspot,
                business_id,
                operation="sync_inventory",
                message=f"{len(failures)} product(s) of {business_id} were not upserted to HubSpot",
                failed=len(failures),
                examples=refused_examples(rows, failures, code_key="product_code"),
                refused=refusals_of("product", [r["product_code"] for r in rows], failures),
            )
        done += len(rows)
        if on_progress is not None:
            on_progress("hubspot", done, total)
    return counts
