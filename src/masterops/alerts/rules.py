"""Which health results become alerts: changes, at or above a level, within a cooldown.

The rules, per (business, service):

- an alert announces a *change*: the status differs from the one the operator was last
  told (the newest ``alert_history`` row), or, when nothing was ever announced for the
  pair, from its previous stored status (never checked: assumed healthy). A repeat of the
  same status is never announced again.
- only changes that matter at ``min_level``: into a status at or above it ("problem",
  or "better" when still at or above it but less bad), or out of it ("recovery", which,
  once announced, is the status the operator knows, so it is announced once).
- ``disabled`` is configuration, not health: it never alerts, and a disabled previous
  status counts as never checked.
- the cooldown: within ``cooldown_s`` of the pair's last alert, nothing is announced
  except a status worse than the last one announced (an escalation is never held back).
  A change held back is announced by the first round after the cooldown that still sees
  it, because the comparison is with what was announced, not with the last round.

``decide_alerts`` is a pure function of its arguments; the stores supply them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from masterops.config import AlertRules
from masterops.integrations.base import SEVERITY, HealthResult

AlertKind = Literal["problem", "better", "recovery"]
Key = tuple[str, str]


@dataclass(frozen=True, slots=True)
class LastAlert:
    """The newest alert recorded for a (business, service)."""

    status: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Alert:
    """A change worth telling the operator about."""

    business_id: str
    service: str
    previous_status: str | None  # what the operator knew before; None: nothing yet
    status: str
    kind: AlertKind
    message: str  # the health check's own explanation
    checked_at: datetime

    @property
    def key(self) -> Key:
        return (self.business_id, self.service)

    @property
    def level(self) -> Literal["warn", "error"]:
        return "error" if self.status == "down" else "warn"

    @property
    def title(self) -> str:
        where = f"{self.business_id}/{self.service}"
        was = f" (was {self.previous_status})" if self.previous_status else ""
        if self.kind == "recovery":
            return f"{where} recovered: {self.status}{was}"
        return f"{where} is {self.status.upper()}{was}"

    def text(self) -> str:
        """The full alert: title, the check's explanation and when it was seen."""
        return f"{self.title}\n{self.message}\nchecked at {self.checked_at:%Y-%m-%d %H:%M:%S} UTC"


def decide_alerts(
    results: Iterable[HealthResult],
    previous: Mapping[Key, str],
    last_alerts: Mapping[Key, LastAlert],
    rules: AlertRules,
    now: datetime,
) -> list[Alert]:
    """The alerts ``results`` call for, in the order of ``results`` (see the module)."""
    alerts = []
    for result in results:
        key = (result.business_id, result.service)
        alert = judge(result, previous.get(key), last_alerts.get(key), rules, now)
        if alert is not None:
            alerts.append(alert)
    return alerts


def judge(
    result: HealthResult,
    previous: str | None,
    last: LastAlert | None,
    rules: AlertRules,
    now: datetime,
) -> Alert | None:
    """The alert for one result, or None."""
    status = result.status
    if status not in SEVERITY:  # disabled: configuration, not health
        return None
    threshold = SEVERITY[rules.min_level]
    if last is not None:
        known = last.status
    elif previous in SEVERITY:
        known = previous
    else:
        known = "healthy"  # never checked (or disabled until now): nothing was wrong
    if status == known:
        return None
    alerting_now = SEVERITY[status] >= threshold
    alerting_before = SEVERITY.get(known, 0) >= threshold
    if not alerting_now and not alerting_before:
        return None  # a change below the level the operator asked to hear about
    in_cooldown = last is not None and now - last.created_at < timedelta(seconds=rules.cooldown_s)
    escalation = last is not None and SEVERITY[status] > SEVERITY.get(last.status, 0)
    if in_cooldown and not escalation:
        return None
    kind: AlertKind
    if not alerting_now:
        kind = "recovery"
    elif SEVERITY[status] > SEVERITY.get(known, 0):
        kind = "problem"
    else:
        kind = "better"
    return Alert(
        business_id=result.business_id,
        service=result.service,
        previous_status=known if (last is not None or previous in SEVERITY) else None,
        status=status,
        kind=kind,
        message=result.message,
        checked_at=result.checked_at,
    )
