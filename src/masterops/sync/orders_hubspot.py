"""The HubSpot stage of the orders sync: stored orders become deals with line items.

Which orders go is read from the database, not from what this run fetched (as in
``inventory_hubspot``): every order whose row changed after it last reached HubSpot
(``updated_at > hubspot_synced_at``) or that never reached it, every order whose links
are out of date (its customer's contact or company, or a line's product, now has another
HubSpot id than the one the order was last linked with: the customers or inventory sync
ran after it, or recreated an object), or every order with ``full``. An order is stamped
as synced, with the ids it was linked with, only when its deal, every line item and every
association went through, so anything refused, or left behind by a killed run, is sent
again by the next run without the watermark having to wait for it.

One exception: a Deleted order that never became a deal is not sent (a lost deal for an
order nobody saw would be noise); one that did become a deal is sent, to close it lost.

HubSpot fields:

- deal, matched by the unique property ``unleashed_order_guid``: ``dealname``
  "<OrderNumber> <CustomerName>", ``amount`` the order Total, ``closedate`` the
  OrderDate (epoch ms), ``pipeline`` "default" and ``dealstage`` by ``DEAL_STAGES``:
  Completed -> closedwon, Deleted -> closedlost, every open status (Open, Parked, Placed,
  Backordered) -> appointmentscheduled, the default pipeline's first stage;
- line item, matched by the unique property ``unleashed_line_guid``: ``name`` (the
  product description, else its code), ``quantity``, ``price`` (the unit price) and
  ``hs_product_id`` when the inventory sync made the product a HubSpot product;
- associations deal -> line item (type 19), deal -> contact (type 3) when the customers
  sync made the order's customer a contact, deal -> company (type 5) when it made the
  customer a company; reconciled, not only added (``orders_links``): stale links are
  removed and line items of lines the order lost are archived (``orders_dropped``). The
  contact and company links are held over from round to round to fill batches of 100
  (``orders_links.LinkCarry``); an order waits for them to be stamped (``orders_stamps``).

The customer and product names are not columns of ``orders``/``order_lines``: they come
from this run's pages (``DisplayNames``), else from ``customers``/``products``, else the codes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Engine, Select, and_, exists, or_, select

from masterops.db.tables import customers, order_lines, orders, products
from masterops.integrations.hubspot import BATCH_LIMIT, BatchOutcome, HubSpotConnector
from masterops.sync.common import Progress, log_refused, raise_if_fatal
from masterops.sync.hubspot_push import (
    OwnedProperty,
    Properties,
    PushRun,
    PushStage,
    PushTarget,
    number_text,
    push,
)
from masterops.sync.orders_dropped import archive_dropped_lines
from masterops.sync.orders_links import DealLinks, LinkCarry, reconcile_deal_links
from masterops.sync.orders_rounds import pick_round
from masterops.sync.orders_stamps import Round, ready_to_stamp, store_ids
from masterops.sync.pipeline import RoundPipeline
from masterops.sync.refusals import Refusal, refusal
from masterops.sync.runs import Tally

#: The deal property holding the Unleashed order Guid: the deals upsert's ``idProperty``.
ORDER_GUID_PROPERTY = "unleashed_order_guid"
#: The line item property holding the Unleashed line Guid.
LINE_GUID_PROPERTY = "unleashed_line_guid"
PIPELINE = "default"
#: Unleashed order status -> HubSpot deal stage (of the default pipeline).
DEAL_STAGES: Mapping[str, str] = {"Completed": "closedwon", "Deleted": "closedlost"}
#: The stage of every status not in ``DEAL_STAGES``: the order is still open.
OPEN_STAGE = "appointmentscheduled"
#: Orders per round: two full deal batches and a few line item batches (sent
#: concurrently), the round's orders chosen so those are full too (``orders_rounds``).
ROUND_SIZE = 200
#: Orders read ahead of a round, to choose its orders from.
LOOKAHEAD = 200
#: Rounds in flight at once (``pipeline``): a round's calls go one after another (deals,
#: then line items, then links), so the rounds beside it keep the rate limiter's queue full.
IN_FLIGHT = 3


@dataclass(slots=True)
class DisplayNames:
    """Display names seen in this run's pages, by lowercase Guid."""

    customers: dict[str, str] = field(default_factory=dict)
    products: dict[str, str] = field(default_factory=dict)


def deal_stage(status: str) -> str:
    return DEAL_STAGES.get(status, OPEN_STAGE)


def _epoch_ms(moment: datetime) -> str:
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    return str(int(aware.timestamp() * 1000))


def line_guid(row: Mapping[str, Any]) -> str:
    """The line's Guid; order Guid and line number if Unleashed ever sends none."""
    guid = row["line_guid"]
    return str(guid) if guid else f"{row['order_guid']}:{row['line_number']}"


def _optional_number(column: str) -> Any:
    return lambda row: None if row[column] is None else number_text(float(row[column]))


def _product_id(row: Mapping[str, Any]) -> str | None:
    if row["product_id"]:
        return str(row["product_id"])
    # The product the line item named before, cleared (HubSpot's way: an empty value)
    # when the line has none now.
    return "" if row["linked_product_id"] else None


#: The HubSpot properties of one ``orders`` row, with its ``customer_label`` (the
#: customer's display name, if known).
_DEAL_PROPERTIES = Properties(
    {
        ORDER_GUID_PROPERTY: lambda r: str(r["unleashed_guid"]),
        "dealname": lambda r: (
            f"{r['order_number']} {r['customer_label'] or r['customer_code'] or ''}".strip()
        ),
        "dealstage": lambda r: deal_stage(str(r["status"])),
        "pipeline": lambda r: PIPELINE,
        "amount": _optional_number("total"),
        "closedate": lambda r: None if r["order_date"] is None else _epoch_ms(r["order_date"]),
    }
)
#: The HubSpot properties of one ``order_lines`` row, with its ``product_label``, its
#: product's HubSpot ``product_id`` and the ``linked_product_id`` it named before.
_LINE_ITEM_PROPERTIES = Properties(
    {
        LINE_GUID_PROPERTY: line_guid,
        "name": lambda r: r["product_label"] or r["product_code"] or f"Line {r['line_number']}",
        "quantity": lambda r: number_text(float(r["quantity"])),
        "price": _optional_number("unit_price"),
        "hs_product_id": _product_id,
    }
)

DEAL = PushTarget(
    object_type="deals",
    webhook_type="deal",
    what="deal",
    label="order_number",
    properties=_DEAL_PROPERTIES,
    id_property=ORDER_GUID_PROPERTY,
    setup=(
        OwnedProperty(
            ORDER_GUID_PROPERTY,
            {
                "label": "Unleashed order GUID",
                "unique": True,
                "description": "The Unleashed sales order Guid; set by Master-Ops orders sync.",
            },
        ),
    ),
)
LINE_ITEM = PushTarget(
    object_type="line_items",
    webhook_type="line_item",
    what="line item",
    properties=_LINE_ITEM_PROPERTIES,
    id_property=LINE_GUID_PROPERTY,
    setup=(
        OwnedProperty(
            LINE_GUID_PROPERTY,
            {
                "label": "Unleashed line GUID",
                "unique": True,
                "description": "The Unleashed sales order line Guid; set by Master-Ops "
                "orders sync.",
            },
        ),
    ),
)


def deal_properties(row: Mapping[str, Any], customer_name: str | None) -> dict[str, str]:
    """The HubSpot properties of one ``orders`` row (values as HubSpot's text)."""
    return _DEAL_PROPERTIES({**row, "customer_label": customer_name})


def line_item_properties(
    row: Mapping[str, Any],
    product_name: str | None,
    hubspot_product_id: str | None,
    *,
    linked_product_id: str | None = None,
) -> dict[str, str]:
    """The HubSpot properties of one ``order_lines`` row; ``linked_product_id`` is the
    product the line item named before (cleared when the line has none now)."""
    return _LINE_ITEM_PROPERTIES(
        {
            **row,
            "product_label": product_name,
            "product_id": hubspot_product_id,
            "linked_product_id": linked_product_id,
        }
    )


def _pending(
    business_id: str, full: bool, only: Collection[str] | None = None
) -> ColumnElement[bool]:
    # A Deleted order goes only to close a deal it already has (see the module doc).
    wanted = and_(
        orders.c.business_id == business_id,
        or_(orders.c.status != "Deleted", orders.c.hubspot_deal_id.isnot(None)),
    )
    if only is not None:
        wanted = and_(wanted, orders.c.unleashed_guid.in_(list(only)))
    if full:
        return wanted
    return and_(
        wanted,
        or_(
            orders.c.hubspot_synced_at.is_(None),
            orders.c.updated_at > orders.c.hubspot_synced_at,
            _links_out_of_date(),
        ),
    )


def pending_orders(engine: Engine, business_id: str, guids: Collection[str]) -> set[str]:
    """Which of ``guids`` the next (incremental) run of this stage would send."""
    with engine.connect() as conn:
        stmt = select(orders.c.unleashed_guid).where(_pending(business_id, False, guids))
        return {str(guid) for guid in conn.execute(stmt).scalars()}


def _links_out_of_date() -> Any:
    """The order was last linked with other HubSpot ids than its customer and products
    have now (correlated to ``orders``; IS DISTINCT FROM: a NULL on one side counts).
    Aliases, so that a query already joining ``customers`` does not swallow the
    subqueries' own FROM by auto-correlation."""
    cust, line, prod = customers.alias(), order_lines.alias(), products.alias()
    of_order = and_(
        cust.c.business_id == orders.c.business_id,
        cust.c.unleashed_guid == orders.c.customer_guid,
    )
    contact_now = select(cust.c.hubspot_id).where(of_order).correlate(orders).scalar_subquery()
    company_now = (
        select(cust.c.hubspot_company_id).where(of_order).correlate(orders).scalar_subquery()
    )
    product_moved = exists(
        select(line.c.line_number)
        .select_from(
            line.outerjoin(
                prod,
                and_(
                    prod.c.business_id == line.c.business_id,
                    prod.c.unleashed_guid == line.c.product_guid,
                ),
            )
        )
        .where(
            line.c.business_id == orders.c.business_id,
            line.c.order_guid == orders.c.unleashed_guid,
            prod.c.hubspot_id.is_distinct_from(line.c.hubspot_product_link),
        )
        .correlate(orders)
    )
    return or_(
        contact_now.is_distinct_from(orders.c.hubspot_contact_link),
        company_now.is_distinct_from(orders.c.hubspot_company_link),
        product_moved,
    )


def _rounds(business_id: str) -> Select[Any]:
    return select(
        orders.c.unleashed_guid,
        orders.c.order_number,
        orders.c.order_date,
        orders.c.status,
        orders.c.customer_guid,
        orders.c.customer_code,
        orders.c.total,
        orders.c.hubspot_contact_link,
        orders.c.hubspot_company_link,
        customers.c.customer_name,
        customers.c.hubspot_id.label("contact_id"),
        customers.c.hubspot_company_id.label("company_id"),
    ).select_from(
        orders.outerjoin(
            customers,
            and_(
                customers.c.business_id == orders.c.business_id,
                customers.c.unleashed_guid == orders.c.customer_guid,
            ),
        )
    )


STAGE = PushStage(
    name="hubspot",
    operation="sync_orders",
    table=orders,
    key="unleashed_guid",
    pending=_pending,
    rounds=_rounds,
    targets=(DEAL, LINE_ITEM),
    round_size=ROUND_SIZE,
    in_flight=IN_FLIGHT,
)


async def push_orders(
    hubspot: HubSpotConnector,
    engine: Engine,
    tally: Tally,
    *,
    business_id: str,
    full: bool = False,
    labels: DisplayNames | None = None,
    on_progress: Progress | None = None,
    only: Collection[str] | None = None,
) -> None:
    """Upsert the pending orders of ``business_id`` into HubSpot as deals with line items
    and store the HubSpot ids, counted in ``tally``. Item failures are counted and logged;
    an authentication, authorization or open-breaker failure raises its
    ``IntegrationError``. ``only`` (order Guids) restricts the push to those orders: the
    order intake sends an order through the very code the sync uses."""
    names = labels if labels is not None else DisplayNames()

    async def dropped_lines(run: PushRun) -> int:
        await archive_dropped_lines(run.hubspot, engine, tally, business_id=business_id)
        return 0

    # Orders read but not sent yet, with their lines: rounds are composed from them so
    # that every deal and line item batch is full (``orders_rounds``).
    buffered: list[dict[str, Any]] = []
    buffered_lines: dict[str, list[dict[str, Any]]] = {}
    # Held contact and company links refused (by whichever round sent them): reported
    # with the next round stored.
    late: list[Refusal] = []
    numbers: dict[str, str] = {}  # order Guid -> its number, which names a refusal

    def link_refused(order_guid: str, what: str, outcome: BatchOutcome[Any]) -> None:
        tally.add("hubspot_failed")
        key = f"{numbers.get(order_guid) or order_guid}: {what}"  # as ``_push_associations``
        late.append(refusal(key, "association", outcome.error))

    carry = LinkCarry(link_refused)
    # Orders complete but for held links: stamped once those are answered.
    parked: dict[str, dict[str, Any]] = {}

    async def send(run: PushRun, rows: list[dict[str, Any]]) -> int:
        lines = await asyncio.to_thread(_read_lines, engine, business_id, rows)
        # Buffered with their lines at once: a round in flight may take orders meanwhile.
        buffered.extend(rows)
        buffered_lines.update(lines)
        done = 0
        while len(buffered) >= ROUND_SIZE + LOOKAHEAD:
            done += await send_round(take_round())
        return done

    async def rest(run: PushRun) -> int:
        done = 0

        def sent(count: int) -> None:
            nonlocal done
            done += count

        async with RoundPipeline(IN_FLIGHT, sent) as rounds:
            while buffered:
                await rounds.submit(send_round(take_round()))
        tally.add("associations_created", await carry.send(hubspot, everything=True))
        await store(Round(orders=[], lines={}))  # the orders parked until now
        return done

    def take_round() -> Round:
        counts = [len(buffered_lines.get(str(row["unleashed_guid"]), [])) for row in buffered]
        picked = set(pick_round(counts, ROUND_SIZE, BATCH_LIMIT))
        rows = [row for i, row in enumerate(buffered) if i in picked]
        buffered[:] = [row for i, row in enumerate(buffered) if i not in picked]
        guids = [str(row["unleashed_guid"]) for row in rows]
        numbers.update((str(row["unleashed_guid"]), row["order_number"]) for row in rows)
        lines = {guid: buffered_lines.pop(guid) for guid in guids if guid in buffered_lines}
        return Round(orders=rows, lines=lines)

    async def send_round(batch: Round) -> int:
        await _push_deals(hubspot, batch, names, tally)
        await _push_line_items(hubspot, batch, names, tally)
        await _push_associations(hubspot, batch, tally, carry)
        await store(batch)
        return len(batch.orders)

    async def store(batch: Round) -> None:
        stamps = ready_to_stamp(batch, carry, parked)
        # In a thread: the event loop goes on handing the rounds in flight their tokens.
        await asyncio.to_thread(store_ids, engine, business_id, batch, stamps)
        refused = batch.refused + late
        late.clear()
        log_refused(
            hubspot,
            business_id,
            refused,
            operation=STAGE.operation,
            message=f"{len(refused)} HubSpot item(s) of {business_id}'s orders were refused",
        )

    run = PushRun(hubspot, engine, business_id, full, tally, on_progress)
    stage = STAGE
    if only is not None:
        stage = replace(STAGE, pending=lambda business, full: _pending(business, full, only))
    await push(stage, run, send=send, prepare=dropped_lines, closing=rest)


def _read_lines(
    engine: Engine, business_id: str, rows: list[dict[str, Any]]
) -> dict[str, list[dict[str, Any]]]:
    """The lines of a round's orders, with their products' names and HubSpot ids."""
    with engine.connect() as conn:
        line_stmt = (
            select(
                order_lines.c.order_guid,
                order_lines.c.line_number,
                order_lines.c.line_guid,
                order_lines.c.product_guid,
                order_lines.c.product_code,
                order_lines.c.quantity,
                order_lines.c.unit_price,
                order_lines.c.hubspot_product_link,
                products.c.description.label("product_description"),
                products.c.hubspot_id.label("product_id"),
            )
            .select_from(
                order_lines.outerjoin(
                    products,
                    and_(
                        products.c.business_id == order_lines.c.business_id,
                        products.c.unleashed_guid == order_lines.c.product_guid,
                    ),
                )
            )
            .where(
                order_lines.c.business_id == business_id,
                order_lines.c.order_guid.in_([r["unleashed_guid"] for r in rows]),
            )
            .order_by(order_lines.c.order_guid, order_lines.c.line_number)
        )
        lines: dict[str, list[dict[str, Any]]] = {}
        for line in conn.execute(line_stmt):
            lines.setdefault(str(line.order_guid), []).append(dict(line._mapping))
    return lines


async def _push_deals(
    hubspot: HubSpotConnector, batch: Round, labels: DisplayNames, tally: Tally
) -> None:
    items = [
        deal_properties(
            row, labels.customers.get(str(row["customer_guid"])) or row["customer_name"]
        )
        for row in batch.orders
    ]
    outcomes = await hubspot.batch_upsert("deals", items, id_property=ORDER_GUID_PROPERTY)
    raise_if_fatal(outcomes)
    for outcome in outcomes:
        row = batch.orders[outcome.index]
        guid = str(row["unleashed_guid"])
        if outcome.ok and outcome.record is not None:
            batch.deal_ids[guid] = outcome.record.id
            if outcome.new:
                batch.new_deals.add(guid)
            tally.add("deals_upserted")
            tally.add("deals_created", int(bool(outcome.new)))
        else:
            _failed(batch, tally, guid, "deal", outcome)


async def _push_line_items(
    hubspot: HubSpotConnector, batch: Round, labels: DisplayNames, tally: Tally
) -> None:
    # Only lines of orders that have their deal: a line item nothing links to is litter.
    sent = [line for guid in batch.deal_ids for line in batch.lines.get(guid, [])]
    if not sent:
        return
    items = [
        line_item_properties(
            line,
            labels.products.get(str(line["product_guid"])) or line["product_description"],
            line["product_id"],
            linked_product_id=line["hubspot_product_link"],
        )
        for line in sent
    ]
    outcomes = await hubspot.batch_upsert("line_items", items, id_property=LINE_GUID_PROPERTY)
    raise_if_fatal(outcomes)
    for outcome in outcomes:
        line = sent[outcome.index]
        guid = str(line["order_guid"])
        if outcome.ok and outcome.record is not None:
            batch.line_item_ids[(guid, int(line["line_number"]))] = outcome.record.id
            tally.add("line_items_upserted")
        else:
            batch.lines_refused.add(guid)
            _failed(batch, tally, guid, "line item", outcome, key=line_guid(line))


async def _push_associations(
    hubspot: HubSpotConnector, batch: Round, tally: Tally, carry: LinkCarry
) -> None:
    """Reconcile the links of every deal of the round with its order (``orders_links``),
    its contact and company links held in ``carry`` to fill their batches."""
    wanted = []
    for row in batch.orders:
        guid = str(row["unleashed_guid"])
        deal_id = batch.deal_ids.get(guid)
        if deal_id is None:
            continue
        wanted.append(
            DealLinks(
                order_guid=guid,
                deal_id=deal_id,
                existed=guid not in batch.new_deals,
                contacts=frozenset([str(row["contact_id"])] if row["contact_id"] else []),
                companies=frozenset([str(row["company_id"])] if row["company_id"] else []),
                line_items=frozenset(
                    item_id
                    for (order_guid, _), item_id in batch.line_item_ids.items()
                    if order_guid == guid
                ),
                lines_complete=guid not in batch.lines_refused,
            )
        )

    numbers = {str(row["unleashed_guid"]): row["order_number"] for row in batch.orders}

    def refused(order_guid: str, what: str, outcome: BatchOutcome[Any]) -> None:
        # Named by the order number an operator searches for, and the link it wanted.
        key = f"{numbers.get(order_guid) or order_guid}: {what}"
        _failed(batch, tally, order_guid, "association", outcome, key=key)

    links = await reconcile_deal_links(hubspot, wanted, refused, carry)
    tally.add("associations_created", links.created)
    tally.add("associations_removed", links.removed)
    tally.add("line_items_archived", links.line_items_archived)


def _failed(
    batch: Round,
    tally: Tally,
    order_guid: str,
    what: str,
    outcome: BatchOutcome[Any],
    *,
    key: str | None = None,
) -> None:
    """An item of an order refused (named by ``key``, else by its order's Guid): counted,
    reported, and the order left unstamped."""
    tally.add("hubspot_failed")
    batch.incomplete.add(order_guid)
    batch.refused.append(refusal(key or order_guid, what, outcome.error))
