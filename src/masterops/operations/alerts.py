"""Evaluating the database-read alert rules (``alerts.conditions``, ``alerts.usage``,
``alerts.liveness``): run after each health round, each sync and each job
(``alerts_after_job``), so a failed sync or stale data is announced wherever it shows.
Also the operator's side: acknowledging an alert, the test alert, the worker heartbeat."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from masterops import __version__
from masterops.alerts import Alert, alert_on_changes, build_channels
from masterops.alerts.conditions import (
    n8n_conditions,
    stale_conditions,
    sync_conditions,
    webhook_conditions,
)
from masterops.alerts.liveness import (
    breaker_conditions,
    record_heartbeat,
    takeover_conditions,
    worker_conditions,
)
from masterops.alerts.secret_age import secret_conditions
from masterops.alerts.slo import slo_conditions
from masterops.alerts.usage import error_rate_conditions, quota_conditions
from masterops.observability.events import LogEvent
from masterops.operations.errors import UsageError

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from masterops.alerts import AlertRecord, Channel, Delivery
    from masterops.alerts.rules import Condition
    from masterops.config import Config
    from masterops.observability.events import TelemetryHub


async def evaluate_alerts(
    config: Config,
    engine: Engine,
    hub: TelemetryHub,
    *,
    channels: Sequence[Channel] | None = None,
    now: datetime | None = None,
) -> list[AlertRecord]:
    """Read every rule's conditions and send what changed (and retry what failed)."""
    moment = now or datetime.now(UTC)

    def read() -> list[Condition]:
        with engine.connect() as conn:
            return [
                *sync_conditions(conn, config.alerts, moment),
                *stale_conditions(conn, config.alerts, config.schedules, moment),
                *n8n_conditions(conn, moment),
                *webhook_conditions(conn, config.alerts, moment),
                *error_rate_conditions(conn, config.alerts, moment),
                *quota_conditions(conn, config, moment),
                *breaker_conditions(conn, config.alerts, moment),
                *worker_conditions(conn, config.alerts, moment),
                *secret_conditions(conn, config, moment),
                *takeover_conditions(conn, moment),
                *slo_conditions(conn, config.slo, moment),
            ]

    conditions = await asyncio.to_thread(read)
    return await alert_on_changes(conditions, engine, config, hub, channels=channels, now=moment)


async def alerts_after_job(
    config: Config, engine: Engine, hub: TelemetryHub, *, job: str
) -> list[AlertRecord]:
    """``evaluate_alerts`` at the end of a sync or job (``job`` names it in the log). An
    alert that cannot be evaluated must not turn a finished job into a failed one: the
    failure is logged and the next evaluation tries again."""
    try:
        return await evaluate_alerts(config, engine, hub)
    except Exception as exc:
        hub.emit(
            LogEvent(
                source="alerts",
                service=None,
                operation="evaluate",
                level="error",
                message=f"alerts after {job} could not be evaluated: {type(exc).__name__}: {exc}",
                status="failed",
            )
        )
        return []


#: Every channel ``ops alerts test`` can try, configured in ``[alerts] channels`` or not.
CHANNEL_NAMES = ("log", "slack", "email", "webhook")


async def send_test_alert(config: Config, hub: TelemetryHub, channel: str) -> Delivery:
    """Send a harmless test alert through ``channel`` (built from the configuration as if
    it were the only channel) and say whether it got through. Nothing is recorded: a test
    must not change what any channel is believed to know."""
    if channel not in CHANNEL_NAMES:
        raise UsageError(f"CHANNEL must be one of {', '.join(CHANNEL_NAMES)}, got {channel!r}")
    alone = dataclasses.replace(
        config, alerts=config.alerts.model_copy(update={"channels": (channel,)})
    )
    [built] = build_channels(alone, hub)
    now = datetime.now(UTC)
    alert = Alert(
        business_id="platform",
        service="test",
        previous_status=None,
        status="degraded",
        kind="problem",
        message="a test alert from `ops alerts test`: nothing is wrong",
        checked_at=now,
    )
    return await built.send(alert)


@dataclasses.dataclass(frozen=True)
class Acknowledged:
    """An ack just opened: its id and the pair it quiets."""

    id: int
    business_id: str
    service: str
    status: str
    note: str | None

    def to_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)


def acknowledge_alert(
    engine: Engine, target: str, *, note: str | None = None, acked_by: str | None = None
) -> Acknowledged:
    """Acknowledge an alert by its ``alert_history`` id or its subject "BUSINESS/SERVICE"
    (as ``ops alerts list`` shows them): its alerts stay quiet until it recovers."""
    from sqlalchemy import select

    from masterops.alerts.acks import acknowledge
    from masterops.db.tables import alert_history

    t = alert_history
    text = target.strip()
    with engine.begin() as conn:
        if text.isdigit():
            row = conn.execute(select(t).where(t.c.id == int(text))).first()
            if row is None:
                raise UsageError(f"no alert {text}; see `ops alerts list`")
            alert_id: int | None = row.id
        else:
            business, sep, service = text.partition("/")
            if not sep or not business or not service:
                raise UsageError(
                    f"ID|SUBJECT must be an alert id or BUSINESS/SERVICE "
                    f"(e.g. teelixir/sync:orders), got {target!r}"
                )
            row = conn.execute(
                select(t)
                .where(t.c.business_id == business, t.c.service == service)
                .order_by(t.c.id.desc())
                .limit(1)
            ).first()
            if row is None:
                raise UsageError(f"no alert about {text}; see `ops alerts list`")
            alert_id = None
        now = datetime.now(UTC)
        key = (row.business_id, row.service)
        ack_id = acknowledge(
            conn, key, row.status, now=now, note=note, alert_id=alert_id, acked_by=acked_by
        )
    return Acknowledged(ack_id, row.business_id, row.service, row.status, note)


def worker_heartbeat(
    engine: Engine,
    worker_id: str,
    *,
    started_at: datetime,
    now: datetime | None = None,
    state: str = "running",
) -> None:
    """Record that the worker ``worker_id`` (its executor id) is alive ``now`` (or, with
    ``state="stopped"``, that it stopped cleanly)."""
    import os
    import socket

    with engine.begin() as conn:
        record_heartbeat(
            conn,
            worker_id,
            host=socket.gethostname(),
            pid=os.getpid(),
            started_at=started_at,
            now=now or datetime.now(UTC),
            version=__version__,
            state=state,
        )
