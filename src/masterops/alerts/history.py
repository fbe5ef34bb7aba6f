"""``alert_history``: what was sent (or tried), and the newest alert per service."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select

from masterops.alerts.channels import Delivery
from masterops.alerts.rules import Alert, Key, LastAlert
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


def last_alerts(conn: Connection, keys: Iterable[Key] | None = None) -> dict[Key, LastAlert]:
    """The newest alert row of each (business, service), whatever its channel or
    delivery: what the operator was last told, or at least what we last tried to tell."""
    wanted = set(keys) if keys is not None else None
    if wanted is not None and not wanted:
        return {}
    newest = select(func.max(alert_history.c.id)).group_by(
        alert_history.c.business_id, alert_history.c.service
    )
    if wanted is not None:
        newest = newest.where(
            alert_history.c.business_id.in_({b for b, _ in wanted}),
            alert_history.c.service.in_({s for _, s in wanted}),
        )
    stmt = select(
        alert_history.c.business_id,
        alert_history.c.service,
        alert_history.c.status,
        alert_history.c.created_at,
    ).where(alert_history.c.id.in_(newest.scalar_subquery()))
    found = {
        (row.business_id, row.service): LastAlert(row.status, row.created_at)
        for row in conn.execute(stmt)
    }
    return found if wanted is None else {k: v for k, v in found.items() if k in wanted}


def recent_alerts(conn: Connection, *, limit: int = 100) -> list[dict[str, Any]]:
    """The newest ``alert_history`` rows first."""
    stmt = select(alert_history).order_by(alert_history.c.id.desc()).limit(limit)
    return [dict(row._mapping) for row in conn.execute(stmt)]
