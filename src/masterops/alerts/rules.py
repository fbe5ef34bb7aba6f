"""Which health results become alerts: changes, at or above a level, within a cooldown.

The rules, per (business, service):

- each channel is judged on its own: what a channel was last *told* is its newest
  ``alert_history`` row that was delivered. A failed delivery is not an announcement.
- an alert announces a *change*: the status differs from the one the channel was last
  told, or from "healthy" when it was never told anything about the pair (stored rounds
  nobody was told about, e.g. ``ops health --no-alerts``, change nothing: the operator
  still believes all is well). A repeat of the same status is never announced again.
- only changes that matter at ``min_level``: into a status at or above it ("problem",
  or "better" when still at or above it but less bad), or out of it ("recovery", which,
  once announced, is the status the operator knows, so it is announced once).
- ``disabled`` is configuration, not health: it never alerts.
- the cooldown: within ``cooldown_s`` of the pair's last alert, nothing is announced
  except a status worse than the last one announced (an escalation is never held back).
  A change held back is announced by the first round after the cooldown that still sees
  it, because the comparison is with what was announced, not with the last round.

- a channel that failed is retried by the next evaluation after a backoff that doubles
  with each failure in a row (``retry_backoff_s``, then twice and four times that, up to
  an hour), except for a status worse than the one that failed, which is tried at once.

``decide_alerts`` is a pure function of its arguments; the stores supply them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol

from masterops.config import AlertRules
from masterops.integrations.base import SEVERITY

AlertKind = Literal["problem", "better", "recovery"]
Key = tuple[str, str]
#: (business_id, service, channel)
ChannelKey = tuple[str, str, str]
#: The longest wait between two attempts through a failing channel.
MAX_BACKOFF = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class LastAlert:
    """The newest alert recorded for a (business, service)."""

    status: str
    created_at: datetime


class Observation(Protocol):
    """Anything an alert can be about: a health result, or a ``Condition`` a rule found."""

    @property
    def business_id(self) -> str: ...
    @property
    def service(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def message(self) -> str: ...
    @property
    def checked_at(self) -> datetime: ...


@dataclass(frozen=True, slots=True)
class Condition:
    """What a rule found about one subject, in the statuses of health: "healthy" (all
    well, which a recovery announces), "degraded" or "down". ``service`` names the rule
    and its subject, e.g. "sync:orders"; alert_history keys it like a service."""

    business_id: str
    service: str
    status: str
    message: str
    checked_at: datetime


@dataclass(frozen=True, slots=True)
class ChannelState:
    """What one channel knows of a (business, service): the newest alert it delivered,
    and the failed attempts since (how many, the newest's time and status)."""

    told: LastAlert | None = None
    failures: int = 0
    last_failure: LastAlert | None = None


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
    results: Iterable[Observation],
    states: Mapping[ChannelKey, ChannelState],
    channels: Sequence[str],
    rules: AlertRules,
    now: datetime,
) -> list[tuple[str, Alert]]:
    """(channel, alert) for every alert ``results`` call for, in the order of ``results``
    then ``channels`` (see the module)."""
    due = []
    for result in results:
        for channel in channels:
            key = (result.business_id, result.service, channel)
            alert = judge(result, states.get(key, ChannelState()), rules, now)
            if alert is not None:
                due.append((channel, alert))
    return due


def backoff(rules: AlertRules, failures: int) -> timedelta:
    """How long a channel that failed ``failures`` times in a row is left alone."""
    if failures <= 0:
        return timedelta(0)
    seconds = rules.retry_backoff_s * 2 ** min(failures - 1, 16)
    return min(timedelta(seconds=seconds), MAX_BACKOFF)


def judge(
    result: Observation, state: ChannelState, rules: AlertRules, now: datetime
) -> Alert | None:
    """The alert one channel should get for one result, or None."""
    status = result.status
    if status not in SEVERITY:  # disabled: configuration, not health
        return None
    threshold = SEVERITY[rules.min_level]
    last = state.told
    known = last.status if last is not None else "healthy"  # never told: all was well
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
    failed = state.last_failure
    if (
        failed is not None
        and now - failed.created_at < backoff(rules, state.failures)
        and SEVERITY[status] <= SEVERITY.get(failed.status, 0)
    ):
        return None  # the channel is failing: wait, unless this is worse news
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
        previous_status=known if last is not None else None,
        status=status,
        kind=kind,
        message=result.message,
        checked_at=result.checked_at,
    )
