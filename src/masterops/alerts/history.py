"""``alert_history``: what was sent (or tried), and the newest alert per service."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select

from masterops.alerts.channels import Delivery
from masterops.alerts.rules import Alert, ChannelKey, ChannelState, Key, LastAlert
from masterops.db.tables import alert_history
from masterops.observability.redaction import Redactor


@dataclass(frozen=True, slots=True)
class AlertRecord:
    """One alert through one channel: one ``alert_history`` row."""

    alert: Alert
    delivery: Delivery
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "business_id": self.alert.business_id,
            "service": self.alert.service,
            "previous_status": self.alert.previous_status,
            "status": self.alert.status,
            "kind": self.alert.kind,
            "channel": self.delivery.channel,
            "delivered": self.delivery.delivered,
            "error": self.delivery.error,
            "created_at": self.created_at.isoformat(),
        }


def save_records(
    conn: Connection, records: Sequence[AlertRecord], *, redactor: Redactor | None = None
) -> int:
    """Insert one row per record; the message and error are redacted once more here,
    since a row outlives every process that could have leaked into it."""
    redact = redactor or Redactor()
    rows = [
        {
            "business_id": r.alert.business_id,
            "service": r.alert.service,
            "previous_status": r.alert.previous_status,
            "status": r.alert.status,
            "channel": r.delivery.channel,
            "message": redact.text(f"{r.alert.title}: {r.alert.message}"),
            "delivered": r.delivery.delivered,
            "error": redact.text(r.delivery.error) if r.delivery.error else None,
            "created_at": r.created_at,
        }
        for r in records
    ]
    if rows:
        conn.execute(insert(alert_history), rows)
    return len(rows)


def channel_states(
    conn: Connection, keys: Iterable[Key] | None = None
) -> dict[ChannelKey, ChannelState]:
    """What each channel knows of each (business, service), limited to ``keys`` if
    given: its newest delivered alert (what it was told), and the undelivered attempts
    since (which the next evaluation retries after a backoff)."""
    wanted = set(keys) if keys is not None else None
    if wanted is not None and not wanted:
        return {}
    t = alert_history
    scope = (
        []
        if wanted is None
        else [t.c.business_id.in_({b for b, _ in wanted}), t.c.service.in_({s for _, s in wanted})]
    )
    newest_told = select(func.max(t.c.id)).where(t.c.delivered.is_(True), *scope)
    newest_told = newest_told.group_by(t.c.business_id, t.c.service, t.c.channel)
    columns = (t.c.business_id, t.c.service, t.c.channel, t.c.status, t.c.created_at)
    told = {
        (row.business_id, row.service, row.channel): LastAlert(row.status, row.created_at)
        for row in conn.execute(select(*columns).where(t.c.id.in_(newest_told.scalar_subquery())))
    }
    other = alert_history.alias("other")
    told_id = (
        select(func.max(other.c.id))
        .where(
            other.c.business_id == t.c.business_id,
            other.c.service == t.c.service,
            other.c.channel == t.c.channel,
            other.c.delivered.is_(True),
        )
        .scalar_subquery()
    )
    failed_since = (
        select(*columns)
        .where(t.c.delivered.is_(False), t.c.id > func.coalesce(told_id, 0), *scope)
        .order_by(t.c.id)
    )
    failures: dict[ChannelKey, list[LastAlert]] = {}
    for row in conn.execute(failed_since):
        key = (row.business_id, row.service, row.channel)
        failures.setdefault(key, []).append(LastAlert(row.status, row.created_at))
    states = {
        key: ChannelState(
            told=told.get(key),
            failures=len(failures.get(key, ())),
            last_failure=failures[key][-1] if key in failures else None,
        )
        for key in told.keys() | failures.keys()
    }
    if wanted is None:
        return states
    return {k: v for k, v in states.items() if (k[0], k[1]) in wanted}


def recent_alerts(conn: Connection, *, limit: int = 100) -> list[dict[str, Any]]:
    """The newest ``alert_history`` rows first."""
    stmt = select(alert_history).order_by(alert_history.c.id.desc()).limit(limit)
    return [dict(row._mapping) for row in conn.execute(stmt)]
