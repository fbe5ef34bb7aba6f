"""Order events: sales orders pushed to ``POST /webhooks/orders/<business>``, stored in
the webhook inbox (``source = "orders"``), then applied through the orders sync's code.

Applying an order event is what a poll of that one order would do: the order and its
lines are written by ``sync.orders.store_orders`` (the sync's own page writer) and the
deal, its line items and its links go to HubSpot by ``sync.orders_hubspot.push_orders``
restricted to that order. So after an event is processed the next ``ops sync orders``
finds the order unchanged and already in HubSpot, and has nothing to do for it.

Rules:

- A business's events are applied under the business's orders sync lock: never at the
  same time as a poll of the same orders, nor as another processor (a second processor
  finds the lock held, leaves the events pending and says so).
- Oldest first, in batches; each event's order is stored in its own transaction, so an
  event that cannot be stored (or parsed) fails alone and never blocks its batch.
- An event older than what the mirror holds (its ``LastModifiedOn`` is before the stored
  order's) is not applied: a late redelivery must not take an order back in time. It is
  marked processed, outcome "stale".
- An event is "processed" once its order needs nothing more from HubSpot (the HubSpot
  stage would not send it); a refused item leaves it pending for a later run, up to
  ``max_attempts``, then "failed". An order that is not a ``SalesOrder`` fails at once.
- An event stored already failed (it held a NUL character) is never applied.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Engine, and_, or_, select, update

from masterops.db.tables import orders, webhook_inbox
from masterops.integrations.hubspot import HubSpotConnector
from masterops.integrations.unleashed import SalesOrder
from masterops.observability.events import LogEvent, TelemetryHub
from masterops.observability.redaction import Redactor
from masterops.sync.common import guid_key
from masterops.sync.locks import SyncLocked, sync_lock
from masterops.sync.orders import ENTITY, store_orders
from masterops.sync.orders import KIND as ORDERS_KIND
from masterops.sync.orders_hubspot import DisplayNames, pending_orders, push_orders
from masterops.sync.runs import Tally

#: ``webhook_inbox.source`` of order events.
ORDER_SOURCE = "orders"
#: ``webhook_inbox.subscription_type`` of order events.
ORDER_EVENT_TYPE = "sales_order"
#: Longest sender event id accepted (the inbox key also holds the business).
MAX_EVENT_ID = 64
MAX_ERROR_CHARS = 2000
LOG_SOURCE = "ingest"
LOG_SERVICE = "orders"


class InvalidOrder(Exception):
    """The payload is not a sales order; ``field`` names the first thing wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def parse_order(payload: Any) -> SalesOrder:
    """The ``SalesOrder`` the payload is (validated by the model the polling sync uses),
    or ``InvalidOrder`` naming the first field that is wrong."""
    if not isinstance(payload, Mapping):
        raise InvalidOrder(
            "(body)",
            f"must be a JSON object (an Unleashed sales order), got a JSON {_json_type(payload)}",
        )
    try:
        order = SalesOrder.model_validate(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(body)"
        raise InvalidOrder(where, str(first["msg"]).lower()) from None
    if not order.guid.strip():
        raise InvalidOrder("Guid", "must not be empty")
    if not order.order_status.strip():
        raise InvalidOrder("OrderStatus", "must not be empty")
    return order


def _json_type(value: Any) -> str:
    names = {list: "array", str: "string", bool: "boolean", int: "number", float: "number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def event_key(business_id: str, order: SalesOrder, payload: Any, sender_id: str | None) -> str:
    """The inbox key of one delivery: the sender's event id when it gives one, else the
    order's Guid and a digest of the order as sent. A redelivery of the same order is
    then the same event, and a changed order a new one. Prefixed by the business, since
    two businesses' senders may number their events alike."""
    if sender_id is not None:
        return f"{business_id}:{sender_id}"
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.sha256(canonical.encode()).hexdigest()[:24]
    return f"{business_id}:{guid_key(order.guid)}#{digest}"


def check_sender_id(value: str) -> str | None:
    """What is wrong with a sender's event id, or None."""
    if not value.strip():
        return "is empty"
    if len(value) > MAX_EVENT_ID:
        return f"is longer than {MAX_EVENT_ID} characters"
    if not value.isprintable():
        return "holds a control character"
    return None


# -- processing --------------------------------------------------------------------------


@dataclass
class IntakeReport:
    """What one processing run of one business did."""

    business_id: str
    claimed: int = 0
    processed: int = 0  # applied, or found already applied
    stale: int = 0  # older than the stored order: not applied (counted in processed)
    retrying: int = 0
    failed: int = 0
    locked: str | None = None  # the lock was held: why nothing ran
    outcomes: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "business_id": self.business_id,
            "claimed": self.claimed,
            "processed": self.processed,
            "stale": self.stale,
            "retrying": self.retrying,
            "failed": self.failed,
            "locked": self.locked,
            "events": self.outcomes,
        }


@dataclass
class _Claimed:
    row: dict[str, Any]
    order: SalesOrder | None = None
    guid: str | None = None
    error: Exception | None = None
    final: bool = False  # the error is one retrying cannot fix
    outcome: str = "applied"


async def process_order_events(
    engine: Engine,
    hub: TelemetryHub,
    business_id: str,
    hubspot: HubSpotConnector | None,
    *,
    batch_size: int = 100,
    max_attempts: int = 5,
    redactor: Redactor | None = None,
) -> IntakeReport:
    """Apply every pending order event of ``business_id`` once (see the module doc).
    Without ``hubspot`` (the business has no HubSpot) only the mirror is written."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    report = IntakeReport(business_id)
    redactor = redactor or Redactor()
    try:
        with sync_lock(engine, business_id, ENTITY):
            after: tuple[datetime, int] | None = None
            while True:
                batch = _read_batch(engine, business_id, after, batch_size)
                if not batch:
                    break
                report.claimed += len(batch)
                await _apply_batch(engine, hub, business_id, hubspot, batch, report)
                for item in batch:
                    _finish(engine, hub, item, report, max_attempts, redactor)
                last = batch[-1].row
                after = (last["received_at"], int(last["id"]))
    except SyncLocked as exc:
        report.locked = str(exc)
    return report


def _read_batch(
    engine: Engine, business_id: str, after: tuple[datetime, int] | None, size: int
) -> list[_Claimed]:
    t = webhook_inbox
    stmt = (
        select(t)
        .where(t.c.source == ORDER_SOURCE, t.c.business_id == business_id, t.c.status == "pending")
        .order_by(t.c.received_at, t.c.id)
        .limit(size)
    )
    if after is not None:
        at, last_id = after
        stmt = stmt.where(or_(t.c.received_at > at, and_(t.c.received_at == at, t.c.id > last_id)))
    with engine.connect() as conn:
        return [_Claimed(dict(r._mapping)) for r in conn.execute(stmt)]


async def _apply_batch(
    engine: Engine,
    hub: TelemetryHub,
    business_id: str,
    hubspot: HubSpotConnector | None,
    batch: Sequence[_Claimed],
    report: IntakeReport,
) -> None:
    labels = DisplayNames()
    stored: set[str] = set()
    for item in batch:
        try:
            item.order = parse_order(item.row["payload_json"])
        except InvalidOrder as exc:
            item.error, item.final = exc, True
            continue
        item.guid = guid_key(item.order.guid)
        if _is_stale(engine, business_id, item.order):
            item.outcome = "stale"
            continue
        try:
            names = store_orders(engine, business_id, [item.order])
        except Exception as exc:  # this event's order only: the batch goes on
            item.error = exc
            continue
        labels.customers.update(names.customers)
        labels.products.update(names.products)
        stored.add(item.guid)
    if hubspot is None or not stored:
        return
    try:
        # The push counts into a tally as in a sync run; the intake is no run, so the
        # events record the outcome instead (a refused item leaves its order pending).
        tally = Tally(ORDERS_KIND, "hubspot")
        await push_orders(
            hubspot, engine, tally, business_id=business_id, labels=labels, only=stored
        )
    except Exception as exc:
        for item in batch:
            if item.guid in stored and item.error is None:
                item.error = exc
        return
    unsent = pending_orders(engine, business_id, stored)
    for item in batch:
        if item.guid in unsent and item.error is None and item.outcome == "applied":
            item.error = RuntimeError(
                f"order {item.order.order_number if item.order else item.guid} did not fully "
                "reach HubSpot (an item was refused; see the orders sync's warning)"
            )


def _is_stale(engine: Engine, business_id: str, order: SalesOrder) -> bool:
    if order.last_modified_on is None:
        return False
    with engine.connect() as conn:
        stored = conn.execute(
            select(orders.c.unleashed_modified_at).where(
                orders.c.business_id == business_id,
                orders.c.unleashed_guid == guid_key(order.guid),
            )
        ).scalar_one_or_none()
    return stored is not None and order.last_modified_on < stored


def _finish(
    engine: Engine,
    hub: TelemetryHub,
    item: _Claimed,
    report: IntakeReport,
    max_attempts: int,
    redactor: Redactor,
) -> None:
    t = webhook_inbox
    row = item.row
    pending = and_(t.c.id == row["id"], t.c.status == "pending")
    if item.error is None:
        with engine.begin() as conn:
            conn.execute(
                update(t)
                .where(pending)
                .values(status="processed", processed_at=datetime.now(UTC), error=None)
            )
        report.processed += 1
        report.stale += item.outcome == "stale"
        report.outcomes.append(_outcome(row, item.outcome))
        order = item.order
        what = f"order {order.order_number or item.guid}" if order else f"event {row['event_id']}"
        message = (
            f"{row['business_id']}: {what} arrived by webhook and is in the mirror and HubSpot"
            if item.outcome == "applied"
            else f"{row['business_id']}: {what} by webhook is older than the stored order; "
            "not applied"
        )
        hub.emit(_log(row, "info", message, status=item.outcome))
        return
    attempts = int(row.get("attempts") or 0) + 1
    final = item.final or attempts >= max_attempts
    error = redactor.text(
        str(item.error) if item.final else f"{type(item.error).__name__}: {item.error}"
    )[:MAX_ERROR_CHARS]
    with engine.begin() as conn:
        conn.execute(
            update(t)
            .where(pending)
            .values(attempts=attempts, error=error, status="failed" if final else "pending")
        )
    if final:
        report.failed += 1
        why = "not a sales order, not retried" if item.final else f"after {attempts} attempt(s)"
        message = f"order event {row['event_id']} failed, {why}: {error}"
    else:
        report.retrying += 1
        message = (
            f"order event {row['event_id']} failed (attempt {attempts} of {max_attempts}), "
            f"will be retried: {error}"
        )
    report.outcomes.append(_outcome(row, "failed" if final else "retry", error))
    status = "failed" if final else "retry"
    hub.emit(_log(row, "error" if final else "warn", message, status=status))


def _outcome(row: Mapping[str, Any], outcome: str, error: str | None = None) -> dict[str, Any]:
    return {"id": row["id"], "event_id": row["event_id"], "outcome": outcome, "error": error}


def _log(row: Mapping[str, Any], level: Any, message: str, *, status: str) -> LogEvent:
    return LogEvent(
        source=LOG_SOURCE,
        service=LOG_SERVICE,
        operation="webhook.sales_order",
        level=level,
        message=message,
        status=status,
        details={"inbox_id": row["id"], "event_id": row["event_id"], "order": row["object_id"]},
        business_id=row.get("business_id"),
    )
