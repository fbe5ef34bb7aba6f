"""What a HubSpot webhook event means for the platform, and the little it can do about it.

The platform pushes Unleashed data into HubSpot and keeps the HubSpot ids in its mirror
tables. Unleashed is the source of truth, so HubSpot's events never change platform data;
they only tell the next sync what it has to repair. Nothing here calls HubSpot: every
decision is made from the event and the mirror, inside the caller's transaction.

Managed objects (the mirror holds their HubSpot id, per business); the properties the
platform writes to each are those its push stage's builder writes
(``masterops.sync.owned_properties``):

=========== ======================================
HubSpot     mirror column
=========== ======================================
product     ``products.hubspot_id``
contact     ``customers.hubspot_id``
company     ``customers.hubspot_company_id``
deal        ``orders.hubspot_deal_id``
line_item   ``order_lines.hubspot_line_item_id``
=========== ======================================

Events (``subscriptionType`` is ``<object>.<action>``):

- ``<object>.deletion`` (and ``contact.privacyDeletion``, a GDPR delete) of a managed
  object: the object is gone from HubSpot, so the mirror's id for it is cleared together
  with ``hubspot_synced_at``; the next sync then finds the row unsynced and creates the
  object again. A line item has no ``hubspot_synced_at`` of its own: its order's is
  cleared, because the orders sync sends line items with their order. A warn log names
  the business, the object and what will happen.
- ``<object>.propertyChange`` of a property the platform writes, on a managed object:
  drift. A warn log says what changed, and the row's ``hubspot_synced_at`` is cleared so
  the next (incremental) sync really overwrites it from Unleashed. A change that occurred
  at or before the row's ``hubspot_synced_at`` is not drift: the sync that stamped the row
  wrote after it, and the sync's own writes come back as exactly such events (treating
  them as drift would make every sync schedule the next one, forever).
- A change to any other property, or any event about an object the platform does not
  manage (or an event no business could be attributed to): no action, a debug log.
- ``*.creation`` and every other action (merge, restore, associationChange, ...): no
  action, a debug log; they are counted by type by the processor.
- An event without an ``objectId``, with a ``subscriptionType`` not of the form
  ``<object>.<action>``, or a propertyChange without ``propertyName``: ``MalformedEvent``.
  Retrying cannot fix it, so the processor fails it at once.

Anything else raised (a database error) is left to the processor, which retries it.
Logs are returned, not emitted, so nothing is announced for a transaction that is then
rolled back.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Column, Connection, Table, select, update

from masterops.db.tables import customers, order_lines, orders, products
from masterops.observability.events import Level, LogEvent
from masterops.sync.owned_properties import OWNED_PROPERTIES

SOURCE = "ingest"
SERVICE = "hubspot"

Action = Literal["cleared", "drift", "no_action"]

# "contact.creation", "line_item.deletion", "deal.propertyChange": lower-case object
# names (with underscores), camelCase actions.
_SUBSCRIPTION = re.compile(r"^(?P<object>[a-z][a-z0-9_]*)\.(?P<action>[a-z][A-Za-z]*)$")
DELETIONS = frozenset({"deletion", "privacyDeletion"})


class MalformedEvent(Exception):
    """The event cannot be understood; processing it again would not change that."""


@dataclass(frozen=True)
class Mirror:
    """Where the platform keeps the HubSpot id of one object type, and what it writes."""

    object_type: str
    table: Table
    id_column: str
    owned: frozenset[str]
    sync: str  # the command whose next run repairs the object
    noun: str  # the Unleashed thing the object mirrors, for messages

    @property
    def hubspot_id(self) -> Column[Any]:
        return self.table.c[self.id_column]


MIRRORS: dict[str, Mirror] = {
    m.object_type: m
    for m in (
        Mirror(
            "product",
            products,
            "hubspot_id",
            OWNED_PROPERTIES["product"],
            "ops sync inventory",
            "Unleashed product",
        ),
        Mirror(
            "contact",
            customers,
            "hubspot_id",
            OWNED_PROPERTIES["contact"],
            "ops sync customers",
            "Unleashed customer",
        ),
        Mirror(
            "company",
            customers,
            "hubspot_company_id",
            OWNED_PROPERTIES["company"],
            "ops sync customers",
            "Unleashed customer",
        ),
        Mirror(
            "deal",
            orders,
            "hubspot_deal_id",
            OWNED_PROPERTIES["deal"],
            "ops sync orders",
            "Unleashed order",
        ),
        Mirror(
            "line_item",
            order_lines,
            "hubspot_line_item_id",
            OWNED_PROPERTIES["line_item"],
            "ops sync orders",
            "Unleashed order line",
        ),
    )
}


@dataclass(frozen=True)
class EventOutcome:
    """What handling one event did, and the logs to emit once it is committed."""

    action: Action
    logs: tuple[LogEvent, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class ParsedEvent:
    subscription_type: str
    object_type: str
    action: str
    object_id: str
    business_id: str | None
    occurred_at: datetime | None
    property_name: str | None
    property_value: Any
    event_id: str


def parse_event(row: Mapping[str, Any]) -> ParsedEvent:
    """The parts of an inbox row that matter, or ``MalformedEvent`` saying what is wrong."""
    payload = row.get("payload_json")
    payload = payload if isinstance(payload, Mapping) else {}
    subscription = row.get("subscription_type") or payload.get("subscriptionType")
    if not isinstance(subscription, str) or not (match := _SUBSCRIPTION.match(subscription)):
        raise MalformedEvent(
            f"subscriptionType {subscription!r} is not of the form <object>.<action> "
            "(e.g. contact.deletion)"
        )
    object_id = row.get("object_id") or _text(payload.get("objectId"))
    if not object_id:
        raise MalformedEvent(f"{subscription} event has no objectId")
    property_name = _text(payload.get("propertyName"))
    if match["action"] == "propertyChange" and property_name is None:
        raise MalformedEvent(f"{subscription} event for object {object_id} has no propertyName")
    return ParsedEvent(
        subscription_type=subscription,
        object_type=match["object"],
        action=match["action"],
        object_id=str(object_id),
        business_id=row.get("business_id"),
        occurred_at=row.get("occurred_at"),
        property_name=property_name,
        property_value=payload.get("propertyValue"),
        event_id=str(row.get("event_id")),
    )


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    text = str(value).strip()
    return text or None


def handle_event(conn: Connection, row: Mapping[str, Any]) -> EventOutcome:
    """Apply one inbox row's meaning to the mirror, inside ``conn``'s transaction."""
    event = parse_event(row)
    mirror = MIRRORS.get(event.object_type)
    if mirror is None or event.business_id is None:
        why = (
            "no business could be attributed to it"
            if event.business_id is None
            else f"the platform does not mirror HubSpot {event.object_type} objects"
        )
        return _nothing(event, f"{event.subscription_type} {event.object_id}: no action, {why}")
    if event.action in DELETIONS:
        return _deleted(conn, event, mirror)
    if event.action == "propertyChange":
        return _changed(conn, event, mirror)
    return _nothing(event, f"{event.subscription_type} {event.object_id}: no action needed")


def _managed(conn: Connection, event: ParsedEvent, mirror: Mirror) -> list[dict[str, Any]]:
    t = mirror.table
    stmt = select(t).where(
        t.c.business_id == event.business_id, mirror.hubspot_id == event.object_id
    )
    return [dict(r._mapping) for r in conn.execute(stmt)]


def _deleted(conn: Connection, event: ParsedEvent, mirror: Mirror) -> EventOutcome:
    rows = _managed(conn, event, mirror)
    if not rows:
        # Also the case for a deletion already handled: the id was cleared, or replaced
        # by the object the next sync created.
        return _nothing(
            event,
            f"HubSpot {event.object_type} {event.object_id} was deleted; the platform does "
            "not manage it, no action",
        )
    t = mirror.table
    values: dict[str, Any] = {mirror.id_column: None}
    if "hubspot_synced_at" in t.c:
        values["hubspot_synced_at"] = None
    conn.execute(
        update(t)
        .where(t.c.business_id == event.business_id, mirror.hubspot_id == event.object_id)
        .values(**values)
    )
    _unsync_orders(conn, event, mirror, rows)
    what = ", ".join(_describe(mirror, r) for r in rows)
    message = (
        f"{event.business_id}: HubSpot {event.object_type} {event.object_id} ({what}) was "
        f"deleted in HubSpot; its id was cleared from the mirror, so the next "
        f"`{mirror.sync}` creates it again"
    )
    return EventOutcome("cleared", (_log(event, "warn", message, status="cleared"),))


def _changed(conn: Connection, event: ParsedEvent, mirror: Mirror) -> EventOutcome:
    prop = event.property_name
    if prop not in mirror.owned:
        return _nothing(
            event,
            f"HubSpot {event.object_type} {event.object_id}: property {prop!r} is not one "
            "the platform writes, no action",
        )
    rows = _managed(conn, event, mirror)
    if not rows:
        return _nothing(
            event,
            f"HubSpot {event.object_type} {event.object_id} changed; the platform does not "
            "manage it, no action",
        )
    synced = [s for s in (_synced_at(conn, mirror, r) for r in rows) if s is not None]
    if event.occurred_at is not None and synced and event.occurred_at <= min(synced):
        return _nothing(
            event,
            f"HubSpot {event.object_type} {event.object_id}: {prop} changed at or before the "
            "last sync wrote it (an echo of that sync, or already overwritten), no action",
        )
    t = mirror.table
    if "hubspot_synced_at" in t.c:
        conn.execute(
            update(t)
            .where(t.c.business_id == event.business_id, mirror.hubspot_id == event.object_id)
            .values(hubspot_synced_at=None)
        )
    _unsync_orders(conn, event, mirror, rows)
    what = ", ".join(_describe(mirror, r) for r in rows)
    message = (
        f"{event.business_id}: property {prop!r} of HubSpot {event.object_type} "
        f"{event.object_id} ({what}) was changed in HubSpot; Unleashed is the source of "
        f"truth, so the next `{mirror.sync}` overwrites it"
    )
    return EventOutcome("drift", (_log(event, "warn", message, status="drift"),))


def _unsync_orders(
    conn: Connection, event: ParsedEvent, mirror: Mirror, rows: list[dict[str, Any]]
) -> None:
    # Line items are sent with their order, so their order must be due for the next sync.
    if mirror.table is not order_lines:
        return
    guids = sorted({str(r["order_guid"]) for r in rows})
    conn.execute(
        update(orders)
        .where(orders.c.business_id == event.business_id, orders.c.unleashed_guid.in_(guids))
        .values(hubspot_synced_at=None)
    )


def _synced_at(conn: Connection, mirror: Mirror, row: Mapping[str, Any]) -> datetime | None:
    if mirror.table is not order_lines:
        value: datetime | None = row.get("hubspot_synced_at")
        return value
    stmt = select(orders.c.hubspot_synced_at).where(
        orders.c.business_id == row["business_id"],
        orders.c.unleashed_guid == row["order_guid"],
    )
    found: datetime | None = conn.execute(stmt).scalar_one_or_none()
    return found


def _describe(mirror: Mirror, row: Mapping[str, Any]) -> str:
    if mirror.table is products:
        return f"{mirror.noun} {row['product_code']}"
    if mirror.table is customers:
        return f"{mirror.noun} {row['customer_code']}"
    if mirror.table is orders:
        return f"{mirror.noun} {row['order_number']}"
    return f"{mirror.noun} {row['order_guid']}#{row['line_number']}"


def _nothing(event: ParsedEvent, message: str) -> EventOutcome:
    return EventOutcome("no_action", (_log(event, "debug", message, status="no_action"),))


def _log(event: ParsedEvent, level: Level, message: str, *, status: str) -> LogEvent:
    details: dict[str, Any] = {
        "event_id": event.event_id,
        "subscription_type": event.subscription_type,
        "object_type": event.object_type,
        "object_id": event.object_id,
    }
    if event.property_name is not None:
        details["property"] = event.property_name
    return LogEvent(
        source=SOURCE,
        service=SERVICE,
        operation=f"webhook.{event.subscription_type}",
        level=level,
        message=message,
        status=status,
        details=details,
        business_id=event.business_id,
    )
