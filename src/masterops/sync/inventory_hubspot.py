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
from typing import Any

from sqlalchemy import ColumnElement, Engine, Select, and_, func, or_, select

from masterops.db.tables import products, stock_levels
from masterops.integrations.hubspot import HubSpotConnector
from masterops.sync.common import Progress
from masterops.sync.hubspot_push import (
    OwnedProperty,
    Properties,
    PushRun,
    PushStage,
    PushTarget,
    Upsert,
    number_text,
    push,
    upsert_rows,
)
from masterops.sync.runs import Tally

#: The HubSpot product property holding the Unleashed Guid: the upsert's ``idProperty``.
GUID_PROPERTY = "unleashed_guid"
#: The HubSpot product property holding the stock on hand summed over warehouses.
STOCK_PROPERTY = "unleashed_stock_on_hand"
OBJECT_TYPE = "products"
#: Products read from the database and sent per round: several HubSpot batches of 100
#: (sent concurrently by the connector), one write-back transaction.
ROUND_SIZE = 500
#: Rounds in flight at once: the next rounds' batches wait at the rate limiter while the
#: last batch of one is answered and its ids are written (``pipeline``). With two, on a
#: busy machine (answers slower), every caller was in flight 30 % of the time when a
#: token came back.
IN_FLIGHT = 3


def _price(row: Mapping[str, Any]) -> str | None:
    price = row["default_sell_price"]
    return None if price is None else number_text(float(price))


def _stock(row: Mapping[str, Any]) -> str | None:
    return number_text(float(row["stock_on_hand"] or 0)) if "stock_on_hand" in row else None


#: The HubSpot properties of one ``products`` row (values as HubSpot's text).
product_properties = Properties(
    {
        GUID_PROPERTY: lambda r: str(r["unleashed_guid"]),
        "name": lambda r: r["description"] or str(r["product_code"]),
        "hs_sku": lambda r: str(r["product_code"]),
        "description": lambda r: r["description"] or "",
        "price": _price,
        STOCK_PROPERTY: _stock,
    }
)

PRODUCTS = PushTarget(
    object_type=OBJECT_TYPE,
    webhook_type="product",
    what="product",
    label="product_code",
    properties=product_properties,
    id_property=GUID_PROPERTY,
    setup=(
        OwnedProperty(
            GUID_PROPERTY,
            {
                "label": "Unleashed GUID",
                "unique": True,
                "description": "The Unleashed product Guid; set by Master-Ops inventory sync.",
            },
        ),
        OwnedProperty(
            STOCK_PROPERTY,
            {
                "label": "Stock on hand",
                "type": "number",
                "field_type": "number",
                "description": "Unleashed quantity on hand over all warehouses; set by "
                "Master-Ops inventory sync.",
            },
        ),
    ),
)


def _pending(business_id: str, full: bool) -> ColumnElement[bool]:
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


def _rounds(business_id: str) -> Select[Any]:
    return select(
        products.c.unleashed_guid,
        products.c.product_code,
        products.c.description,
        products.c.default_sell_price,
        _stock_on_hand(business_id),
    )


STAGE = PushStage(
    name="hubspot",
    operation="sync_inventory",
    table=products,
    key="unleashed_guid",
    pending=_pending,
    rounds=_rounds,
    targets=(PRODUCTS,),
    round_size=ROUND_SIZE,
    in_flight=IN_FLIGHT,
)
_UPSERT = Upsert(
    stage=STAGE, target=PRODUCTS, upserted="hubspot_upserted", created="hubspot_created"
)


async def push_products(
    hubspot: HubSpotConnector,
    engine: Engine,
    tally: Tally,
    *,
    business_id: str,
    full: bool = False,
    on_progress: Progress | None = None,
) -> None:
    """Upsert the pending products of ``business_id`` into HubSpot and store each one's
    HubSpot id, counted in ``tally``. Item failures are counted and logged; an
    authentication, authorization or open-breaker failure raises its
    ``IntegrationError``."""
    run = PushRun(hubspot, engine, business_id, full, tally, on_progress)
    await push(STAGE, run, send=upsert_rows(_UPSERT))
