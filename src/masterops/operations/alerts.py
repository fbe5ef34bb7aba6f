"""Evaluating the database-read alert rules (``alerts.conditions``): run after each health
round and each sync, so a failed sync or stale data is announced wherever it shows."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from masterops.alerts import Alert, alert_on_changes, build_channels
from masterops.alerts.conditions import (
    n8n_conditions,
    stale_conditions,
    sync_conditions,
    webhook_conditions,
)
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
            ]

    conditions = await asyncio.to_thread(read)
    return await alert_on_changes(conditions, engine, config, hub, channels=channels, now=moment)


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
