"""What the orders push writes back once a round is answered: the deal and line item ids
it got, and the stamp (``hubspot_synced_at`` with the ids the deal was linked with) of
each order that went through whole.

An order is stamped only when its deal, every line item and every link went through. Its
contact and company links may be held over to fill a later round's batch
(``orders_links.LinkCarry``): it then waits, parked, until they are answered, so a run
killed in between leaves it unstamped and the next run sends it again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, and_, bindparam, update

from masterops.db.tables import order_lines, orders
from masterops.sync.orders_links import LinkCarry
from masterops.sync.refusals import Refusal


@dataclass(slots=True)
class Round:
    """One round of orders: what was read, and what HubSpot answered for each."""

    orders: list[dict[str, Any]]
    lines: dict[str, list[dict[str, Any]]]
    deal_ids: dict[str, str] = field(default_factory=dict)
    #: Orders whose deal this run's upsert created (it has no links yet).
    new_deals: set[str] = field(default_factory=set)
    line_item_ids: dict[tuple[str, int], str] = field(default_factory=dict)
    #: Orders with a line item refused: which line items they have is not known.
    lines_refused: set[str] = field(default_factory=set)
    # Orders with something refused: not stamped as synced, so the next run resends them.
    incomplete: set[str] = field(default_factory=set)
    refused: list[Refusal] = field(default_factory=list)


def ready_to_stamp(
    batch: Round, carry: LinkCarry, parked: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    """The stamps to write after ``batch``: its orders that went through whole, unless
    links of theirs are still held in ``carry`` (then they wait in ``parked``), and the
    parked orders whose held links have all been answered, unless one was refused."""
    synced_at = datetime.now(UTC)
    ready: list[dict[str, Any]] = []
    for row in batch.orders:
        guid = str(row["unleashed_guid"])
        if guid not in batch.deal_ids or guid in batch.incomplete:
            continue
        # With the stamp, the ids the deal is now linked with (read with the round: an
        # id that changed meanwhile differs from them, so the next run relinks).
        stamp = {
            "b_guid": guid,
            "b_at": synced_at,
            "b_contact": row["contact_id"],
            "b_company": row["company_id"],
        }
        if carry.holding[guid] > 0:
            parked[guid] = stamp
        elif guid not in carry.failed:
            ready.append(stamp)
    for guid in [guid for guid in parked if carry.holding[guid] <= 0]:
        stamp = parked.pop(guid)
        if guid not in carry.failed:
            ready.append(stamp)
    return ready


def store_ids(engine: Engine, business_id: str, batch: Round, stamps: list[dict[str, Any]]) -> None:
    """Write the round's deal and line item ids, and ``stamps`` (``ready_to_stamp``)."""
    # Every deal id is kept (the deal exists), but only complete orders are stamped.
    deal_params = [{"b_guid": guid, "b_id": deal_id} for guid, deal_id in batch.deal_ids.items()]
    products_by_line = {
        (str(line["order_guid"]), int(line["line_number"])): line["product_id"]
        for lines in batch.lines.values()
        for line in lines
    }
    line_params = [
        {
            "b_order": guid,
            "b_line": number,
            "b_id": item_id,
            "b_product": products_by_line.get((guid, number)),
        }
        for (guid, number), item_id in batch.line_item_ids.items()
    ]
    by_order = and_(
        orders.c.business_id == business_id, orders.c.unleashed_guid == bindparam("b_guid")
    )
    with engine.begin() as conn:
        if deal_params:
            conn.execute(
                update(orders).where(by_order).values(hubspot_deal_id=bindparam("b_id")),
                deal_params,
            )
        if stamps:
            conn.execute(
                update(orders)
                .where(by_order)
                .values(
                    hubspot_synced_at=bindparam("b_at"),
                    hubspot_contact_link=bindparam("b_contact"),
                    hubspot_company_link=bindparam("b_company"),
                ),
                stamps,
            )
        if line_params:
            conn.execute(
                update(order_lines)
                .where(
                    order_lines.c.business_id == business_id,
                    order_lines.c.order_guid == bindparam("b_order"),
                    order_lines.c.line_number == bindparam("b_line"),
                )
                .values(
                    hubspot_line_item_id=bindparam("b_id"),
                    hubspot_product_link=bindparam("b_product"),
                ),
                line_params,
            )
