"""The monthly API call quota of one Unleashed account.

What the facts say: each account has a monthly call quota; warnings come at
90, 95 and 100 %; at 100 % every request is blocked until the 1st of the next
month at 00:00 UTC. The quota size, how warnings are delivered and the blocked
status code are unverified, so the sandbox chooses and documents:

- every authenticated request counts (even a 400 or 404); requests refused
  with 403 and requests the quota blocks do not;
- from 90 % used, answers carry ``X-Quota-Warning`` with the highest threshold
  reached: ``90``, ``95`` or ``100`` (the call that uses the last unit gets ``100``);
- once the quota is used up, requests get ``blocked_status`` (429 by default; a
  switch on ``UnleashedSandbox``) with ``{"description": ...}`` and an
  ``X-Quota-Reset`` header (ISO 8601 UTC). No ``Retry-After``: a client must not
  sleep until next month, it must give up for now;
- the count starts again at 0 when the month (UTC) changes, judged by the
  injectable clock on every request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from masterops_sandbox.unleashed.dates import first_of_next_month, month_key

WARNING_HEADER = "x-quota-warning"
RESET_HEADER = "x-quota-reset"
WARNING_PERCENTS: tuple[int, ...] = (100, 95, 90)


@dataclass(frozen=True, slots=True)
class QuotaDecision:
    allowed: bool
    warning: int | None  # highest threshold reached, in percent
    resets_at: datetime


class QuotaMeter:
    """Counts one account's calls in the current UTC month."""

    def __init__(self, limit: int, now: Callable[[], datetime]) -> None:
        if limit < 1:
            raise ValueError("the monthly quota must be at least 1")
        self.limit = limit
        self._now = now
        self._month = month_key(now())
        self._used = 0

    @property
    def used(self) -> int:
        self._roll(self._now())
        return self._used

    def set_used(self, used: int) -> None:
        """Pretend ``used`` calls were already made this month."""
        if used < 0:
            raise ValueError("used calls cannot be negative")
        self._roll(self._now())
        self._used = used

    def admit(self) -> QuotaDecision:
        """Count one call if the quota allows it; say whether it may proceed."""
        now = self._now()
        self._roll(now)
        resets_at = first_of_next_month(now)
        if self._used >= self.limit:
            return QuotaDecision(False, 100, resets_at)
        self._used += 1
        return QuotaDecision(True, self.warning_for(self._used), resets_at)

    def warning_for(self, used: int) -> int | None:
        # Integer arithmetic: 13_500 of 15_000 is exactly 90 %, not 89.999...
        for percent in WARNING_PERCENTS:
            if used * 100 >= self.limit * percent:
                return percent
        return None

    def to_state(self) -> dict[str, Any]:
        return {"limit": self.limit, "month": list(self._month), "used": self._used}

    def load_state(self, state: dict[str, Any]) -> None:
        self.limit = int(state["limit"])
        year, month = state["month"]
        self._month = (int(year), int(month))
        self._used = int(state["used"])

    def _roll(self, now: datetime) -> None:
        month = month_key(now)
        if month != self._month:
            self._month = month
            self._used = 0


@dataclass(slots=True)
class QuotaSwitches:
    """The unverified parts of quota behaviour, changeable at run time."""

    blocked_status: int = 429
