"""The main job ``ops demo`` runs: a health round of everything, then every sync of every
business (inventory, customers, orders, then n8n's execution history), then the alert
rules once more over what the syncs left."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from masterops.alerts import AlertRecord
from masterops.operations.alerts import alerts_after_job
from masterops.operations.health import RoundOutcome, health_round
from masterops.operations.sync import SYNC_ENTITIES, run_sync

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from masterops.observability.events import TelemetryHub
    from masterops.operations.services import Services


@dataclass(frozen=True)
class MainJobOutcome:
    health: RoundOutcome
    sync: list[dict[str, Any]]  # one summary row per job, with the sync it belongs to
    alerts: list[AlertRecord]  # what the syncs' outcomes announced


async def main_job(services: Services, engine: Engine, hub: TelemetryHub) -> MainJobOutcome:
    """Check, store and alert; then sync everything. Never raises for a service's
    failure: each shows in its row."""
    outcome = await health_round(services, engine, hub)
    businesses = list(services.config.businesses.values())
    rows: list[dict[str, Any]] = []
    for entity in SYNC_ENTITIES:
        for row in await run_sync(entity, services, engine, businesses):
            summary = row.to_dict()
            summary.pop("result", None)
            rows.append({"sync": entity, **summary})
    alerts = await alerts_after_job(services.config, engine, hub, job="main job")
    return MainJobOutcome(outcome, rows, alerts)
