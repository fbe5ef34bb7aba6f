"""Evaluating the database-read alert rules (``alerts.conditions``): run after each health
round and each sync, so a failed sync or stale data is announced wherever it shows."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from masterops.alerts import alert_on_changes
from masterops.alerts.conditions import (
    n8n_conditions,
    stale_conditions,
    sync_conditions,
    webhook_conditions,
)

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from masterops.alerts import AlertRecord, Channel
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
