"""Service level objectives over the API calls each service answered (``api_metrics``).

Two objectives per service (``[slo]`` in masterops.toml): availability, the share of
calls that succeed, and latency, the share answered within ``latency_ms``. Over the SLO
window (30 days by default) each has an error budget, ``1 - objective``; the budget
left is the share of it not yet spent. The burn rate over 1 h and 6 h is the share of
bad calls in that hour (or six) divided by the budget: 1 spends the budget exactly over
the window, 14.4 spends 2 % of a 30-day budget in one hour. ``slo_conditions`` alerts
(``degraded``) when an objective burns above ``burn_alert_1h`` over the last hour and
above ``burn_alert_6h`` over the last six: fast enough to matter, and not a blip.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from masterops.alerts.rules import Condition
from masterops.config import SloObjective, SloSettings
from masterops.db.rollup_reads import ServiceWindow, service_windows

#: alert_history's business for conditions about a service as a whole.
PLATFORM = "platform"


@dataclass(frozen=True)
class Objective:
    name: str  # "availability" or "latency"
    target_percent: float
    window_percent: float | None  # good calls over the SLO window; None: no calls
    budget_left_percent: float | None
    burn_1h: float | None
    burn_6h: float | None


@dataclass(frozen=True)
class ServiceSlo:
    service: str
    window_days: int
    calls: int
    latency_ms: float
    objectives: tuple[Objective, ...]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _bad_share(window: ServiceWindow | None, name: str, objective: SloObjective) -> float | None:
    if window is None or window.calls == 0:
        return None
    if name == "availability":
        bad = window.errors
    else:
        bad = window.calls - window.calls_under(objective.latency_ms)
    return bad / window.calls


def _objective(
    name: str, target: float, objective: SloObjective, windows: list[ServiceWindow | None]
) -> Objective:
    budget = 1 - target / 100
    whole, hour, six = (_bad_share(w, name, objective) for w in windows)
    return Objective(
        name=name,
        target_percent=target,
        window_percent=None if whole is None else round(100 * (1 - whole), 4),
        budget_left_percent=None if whole is None else round(100 * (1 - whole / budget), 2),
        burn_1h=None if hour is None else round(hour / budget, 3),
        burn_6h=None if six is None else round(six / budget, 3),
    )


def slo_report(conn: Connection, settings: SloSettings, now: datetime) -> list[ServiceSlo]:
    """Every service with calls in the SLO window, by name."""
    whole = service_windows(conn, now - timedelta(days=settings.window_days))
    return _report(settings, whole, *_burn_windows(conn, now))


def _burn_windows(
    conn: Connection, now: datetime
) -> tuple[dict[str, ServiceWindow], dict[str, ServiceWindow]]:
    return (
        service_windows(conn, now - timedelta(hours=1)),
        service_windows(conn, now - timedelta(hours=6)),
    )


def _report(
    settings: SloSettings,
    whole: dict[str, ServiceWindow],
    hour: dict[str, ServiceWindow],
    six: dict[str, ServiceWindow],
) -> list[ServiceSlo]:
    report = []
    for service in sorted(whole):
        objective = settings.objective(service)
        windows = [whole.get(service), hour.get(service), six.get(service)]
        report.append(
            ServiceSlo(
                service=service,
                window_days=settings.window_days,
                calls=whole[service].calls,
                latency_ms=objective.latency_ms,
                objectives=(
                    _objective("availability", objective.availability_percent, objective, windows),
                    _objective("latency", objective.latency_percent, objective, windows),
                ),
            )
        )
    return report


def slo_conditions(conn: Connection, settings: SloSettings, now: datetime) -> list[Condition]:
    """One condition per service with calls in the last hour ("slo:<service>"). Only the
    burn rates decide, so the SLO window itself is not read (this runs after every job)."""
    hour, six = _burn_windows(conn, now)
    found = []
    # The 6 h window stands in for the whole one: the budget left is not needed here.
    for entry in _report(settings, {s: w for s, w in six.items() if s in hour}, hour, six):
        burning = [
            o
            for o in entry.objectives
            if hour[entry.service].calls >= settings.min_calls
            and (o.burn_1h or 0) > settings.burn_alert_1h
            and (o.burn_6h or 0) > settings.burn_alert_6h
        ]
        if burning:
            what = "; ".join(
                f"{o.name} burns its error budget {o.burn_1h:g}x over 1 h and {o.burn_6h:g}x"
                f" over 6 h (objective {o.target_percent:g} %)"
                for o in burning
            )
            status, message = "degraded", f"{entry.service}: {what}"
        else:
            status, message = "healthy", f"{entry.service} is within its objectives' burn rates"
        found.append(Condition(PLATFORM, f"slo:{entry.service}", status, message, now))
    return found
