"""The health round as an operation: check every service, store the results, alert on
changes. ``ops health``, ``ops demo`` and the health job run exactly this."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

from masterops.alerts import alert_on_changes
from masterops.health import record_round, run_health_round
from masterops.observability.redaction import Redactor
from masterops.operations.alerts import evaluate_alerts

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from masterops.alerts import AlertRecord
    from masterops.health import HealthReport
    from masterops.observability.events import TelemetryHub
    from masterops.operations.services import Services


@dataclass(frozen=True)
class RoundOutcome:
    """A round's report and the alerts it sent (or tried to)."""

    report: HealthReport
    alerts: list[AlertRecord]


async def health_round(
    services: Services,
    engine: Engine,
    hub: TelemetryHub,
    *,
    business: str | None = None,
    service: str | None = None,
    send_alerts: bool = True,
) -> RoundOutcome:
    """One round of every business (or ``business``) and service (or ``service``),
    stored in ``health_checks``; alerts on each change, and on what the other rules find
    (``evaluate_alerts``), unless ``send_alerts`` is off."""
    report = await run_health_round(
        services,
        engine,
        businesses=None if business is None else [business],
        service_filter=service,
    )
    redactor = Redactor(services.config.secrets())
    await asyncio.to_thread(record_round, engine, report.results, redactor=redactor)
    alerts: list[AlertRecord] = []
    if send_alerts:
        alerts = await alert_on_changes(report.results, engine, services.config, hub)
        alerts += await evaluate_alerts(services.config, engine, hub)
    return RoundOutcome(report, alerts)
