"""What HubSpot should hold for the orders, judged from Unleashed, and how far it is off.

``link_report`` compares every deal and line item the platform owns, and every link of
those deals, with what the Unleashed sandbox says now: the deal of each order once, linked
to the live contact holding its customer's email (and to the company recorded for the
customer, if any), and to one line item per current line, each naming the live HubSpot
product of its Unleashed product. Anything HubSpot lacks is *missing*, anything it has
that Unleashed does not say is *stale*, anything twice is *duplicated*.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from inventory_helpers import BUSINESS, InventoryRig
from sqlalchemy import Engine, select

from masterops.db.tables import customers
from masterops.sync.inventory_hubspot import GUID_PROPERTY
from masterops.sync.orders_hubspot import LINE_GUID_PROPERTY, ORDER_GUID_PROPERTY, deal_stage
from masterops.web.inbox import InboxEvent
from masterops_sandbox.unleashed.records import SalesOrder


@dataclass
class LinkReport:
    missing: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    links_checked: int = 0

    @property
    def clean(self) -> bool:
        return not (self.missing or self.stale or self.duplicated)

    def summary(self) -> str:
        return (
            f"{len(self.missing)} missing {self.missing[:5]}, {len(self.stale)} stale "
            f"{self.stale[:5]}, {len(self.duplicated)} duplicated {self.duplicated[:5]}"
        )


def live_by(rig: InventoryRig, type_name: str, prop: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for record in rig.hubspot_sandbox.records(BUSINESS, type_name):
        value = record["properties"].get(prop)
        if value:
            found.setdefault(str(value).lower(), []).append(str(record["id"]))
    return found


def _companies_by_customer(engine: Engine) -> dict[str, str | None]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(customers.c.unleashed_guid, customers.c.hubspot_company_id).where(
                customers.c.business_id == BUSINESS
            )
        )
        return {str(r.unleashed_guid): r.hubspot_company_id for r in rows}


def _dealt(order: SalesOrder, deals: dict[str, list[str]]) -> bool:
    # A Deleted order is a deal only if it became one before it was deleted.
    return order.status != "Deleted" or order.guid.lower() in deals


def link_report(
    rig: InventoryRig, engine: Engine, *, companies: Mapping[str, list[str]] | None = None
) -> LinkReport:
    """``companies``: the live companies by customer Guid, for a business whose companies
    the platform owns; by default, the company recorded for each customer."""
    hs = rig.hubspot_sandbox
    report = LinkReport()
    deals = live_by(rig, "deals", ORDER_GUID_PROPERTY)
    items = live_by(rig, "line_items", LINE_GUID_PROPERTY)
    contacts = live_by(rig, "contacts", "email")
    products = live_by(rig, "products", GUID_PROPERTY)
    live_companies = {str(r["id"]) for r in hs.records(BUSINESS, "companies")}
    company_of = (
        _companies_by_customer(engine)
        if companies is None
        else {guid: ids[0] for guid, ids in companies.items()}
    )
    orders = rig.unleashed_sandbox.orders(BUSINESS)
    wanted_items: set[str] = set()

    for order in orders:
        guid = order.guid.lower()
        if not _dealt(order, deals):
            continue
        found = deals.get(guid, [])
        if not found:
            report.missing.append(f"deal of {order.number}")
            continue
        if len(found) > 1:
            report.duplicated.append(f"deal of {order.number}: {found}")
        deal_id = found[0]
        deal = hs.get(BUSINESS, "deals", deal_id)
        assert deal is not None
        props = deal["properties"]
        if props.get("dealstage") != deal_stage(order.status):
            report.stale.append(f"dealstage of {order.number}")
        if float(props.get("amount", "nan")) != order.total:
            report.stale.append(f"amount of {order.number}")

        email = (order.customer.email or "").strip().lower()
        want_contacts = set(contacts.get(email, [])[:1]) if email else set()
        company = company_of.get(order.customer.guid.lower())
        want_companies = {company} if company and company in live_companies else set()
        want_lines: set[str] = set()
        for line in order.lines:
            line_guid = line.guid.lower()
            wanted_items.add(line_guid)
            item_ids = items.get(line_guid, [])
            if not item_ids:
                report.missing.append(f"line item of {order.number}/{line.line_number}")
                continue
            if len(item_ids) > 1:
                report.duplicated.append(f"line item of {order.number}/{line.line_number}")
            want_lines.add(item_ids[0])
            item = hs.get(BUSINESS, "line_items", item_ids[0])
            assert item is not None
            product_ids = products.get(line.product.guid.lower(), [])
            if item["properties"].get("hs_product_id") not in (product_ids or [None, ""]):
                report.stale.append(
                    f"hs_product_id of {order.number}/{line.line_number}: "
                    f"{item['properties'].get('hs_product_id')} not {product_ids}"
                )
            if float(item["properties"]["quantity"]) != line.quantity:
                report.stale.append(f"quantity of {order.number}/{line.line_number}")

        for to_type, wanted in (
            ("contacts", want_contacts),
            ("companies", want_companies),
            ("line_items", want_lines),
        ):
            have = hs.associated_ids(BUSINESS, "deals", deal_id, to_type)
            report.links_checked += len(have)
            report.missing.extend(f"{order.number} -> {to_type} {i}" for i in wanted - set(have))
            report.stale.extend(f"{order.number} -> {to_type} {i}" for i in set(have) - wanted)
            if to_type != "line_items" and len(have) > 1:
                report.duplicated.append(f"{order.number} -> {to_type} {have}")
            report.duplicated.extend(
                f"{order.number} -> {to_type} {i} x{n}" for i, n in Counter(have).items() if n > 1
            )

    known_orders = {o.guid.lower() for o in orders if _dealt(o, deals)}
    report.stale.extend(f"deal {g} of no order" for g in deals if g not in known_orders)
    report.stale.extend(f"line item {g} of no line" for g in items if g not in wanted_items)
    return report


def deletion_event(event_id: str, object_type: str, object_id: str) -> InboxEvent:
    """A HubSpot deletion event as the webhook receiver stores it in the inbox."""
    now = datetime.now(UTC)
    payload = {
        "eventId": int(event_id),
        "subscriptionId": 1,
        "portalId": 1,
        "occurredAt": int(now.timestamp() * 1000),
        "subscriptionType": f"{object_type}.deletion",
        "objectId": int(object_id),
        "attemptNumber": 0,
        "changeSource": "CRM_UI",
    }
    return InboxEvent(
        source="hubspot",
        event_id=event_id,
        business_id=BUSINESS,
        subscription_type=f"{object_type}.deletion",
        object_id=object_id,
        occurred_at=now,
        payload=payload,
    )
