"""Order intake and the event log as operations: applying pending order events with each
business's HubSpot connector, replaying stored events, and the trigger ``ops serve`` runs
after it stores an order so the order reaches HubSpot within seconds."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from masterops.ingest.event_log import (
    EventFilter,
    mark_for_replay,
    pending_businesses,
    replay_candidates,
)
from masterops.ingest.orders_events import ORDER_SOURCE, IntakeReport, process_order_events
from masterops.integrations.factory import ServiceDisabled
from masterops.observability.events import LogEvent
from masterops.observability.redaction import Redactor

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from masterops.observability.events import TelemetryHub
    from masterops.operations.services import Services

#: How often, and how far apart, the serving process's trigger tries again while a
#: poll of the same orders holds the lock (the scheduled job catches anything left).
TRIGGER_TRIES = 5
TRIGGER_PAUSE_S = 1.0


async def process_orders(
    engine: Engine,
    hub: TelemetryHub,
    services: Services,
    *,
    business_id: str | None = None,
    max_attempts: int = 5,
) -> list[IntakeReport]:
    """Apply the pending order events of every business that has some (or of one)."""
    with engine.connect() as conn:
        businesses = pending_businesses(conn, ORDER_SOURCE)
    if business_id is not None:
        businesses = [b for b in businesses if b == business_id]
    redactor = Redactor(services.secrets())
    reports = []
    for slug in businesses:
        reports.append(await _process_business(engine, hub, services, slug, max_attempts, redactor))
    return reports


async def _process_business(
    engine: Engine,
    hub: TelemetryHub,
    services: Services,
    slug: str,
    max_attempts: int,
    redactor: Redactor,
) -> IntakeReport:
    try:
        hubspot = services.hubspot(slug)
    except ServiceDisabled:
        return await process_order_events(
            engine, hub, slug, None, max_attempts=max_attempts, redactor=redactor
        )
    async with hubspot:
        return await process_order_events(
            engine, hub, slug, hubspot, max_attempts=max_attempts, redactor=redactor
        )


@dataclass
class ReplayReport:
    dry_run: bool
    selected: list[dict[str, Any]] = field(default_factory=list)
    replayed: int = 0
    hubspot: dict[str, Any] | None = None
    orders: list[IntakeReport] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "selected": self.selected,
            "replayed": self.replayed,
            "hubspot": self.hubspot,
            "orders": [r.to_dict() for r in self.orders],
        }


async def replay_events(
    engine: Engine,
    hub: TelemetryHub,
    services: Services,
    where: EventFilter,
    *,
    dry_run: bool = False,
) -> ReplayReport:
    """Put the events ``where`` selects back to pending and process them again; with
    ``dry_run`` only say which they are. Processing is idempotent, so replaying events
    already applied changes nothing."""
    from masterops.operations.webhooks import process_webhooks

    with engine.connect() as conn:
        selected = replay_candidates(conn, where)
    report = ReplayReport(dry_run=dry_run, selected=selected)
    if dry_run or not selected:
        return report
    with engine.begin() as conn:
        report.replayed = mark_for_replay(conn, [int(r["id"]) for r in selected])
    sources = {r["source"] for r in selected}
    if "hubspot" in sources:
        report.hubspot = process_webhooks(engine, hub, services.config).to_dict()
    if ORDER_SOURCE in sources:
        for slug in sorted({str(r["business_id"]) for r in selected if r["source"] == "orders"}):
            report.orders += await process_orders(engine, hub, services, business_id=slug)
    return report


def intake_trigger(
    apply: Callable[[str], Awaitable[IntakeReport]],
    *,
    tries: int = TRIGGER_TRIES,
    pause_s: float = TRIGGER_PAUSE_S,
) -> Callable[[str], Awaitable[None]]:
    """What the order receiver runs after storing a new order of a business: ``apply``
    (process that business's pending order events) at once, one run per business at a
    time in this process, tried again a few times while a poll holds the lock."""
    locks: dict[str, asyncio.Lock] = {}

    async def trigger(business_id: str) -> None:
        lock = locks.setdefault(business_id, asyncio.Lock())
        async with lock:
            for attempt in range(tries):
                report = await apply(business_id)
                if report.locked is None:
                    return
                if attempt + 1 < tries:
                    await asyncio.sleep(pause_s)

    return trigger


def services_trigger(
    engine: Engine, hub: TelemetryHub, services: Services
) -> Callable[[str], Awaitable[None]]:
    """``intake_trigger`` on the serving process's connectors."""
    redactor = Redactor(services.secrets())

    async def apply(business_id: str) -> IntakeReport:
        try:
            return await _process_business(engine, hub, services, business_id, 5, redactor)
        except Exception as exc:
            # After the answer there is no one to tell but the log; the events stay
            # pending and the scheduled job applies them.
            hub.emit(
                LogEvent(
                    source="ingest",
                    service="orders",
                    operation="webhook.sales_order",
                    level="error",
                    message=f"order intake of {business_id} could not run now, the webhooks "
                    f"job will: {redactor.text(f'{type(exc).__name__}: {exc}')}",
                    status="failed",
                    business_id=business_id,
                )
            )
            return IntakeReport(business_id)

    return intake_trigger(apply)


__all__ = [
    "ReplayReport",
    "intake_trigger",
    "process_orders",
    "replay_events",
    "services_trigger",
]
