"""HubSpot's rate limits for private apps, per portal.

* a ten-secondly rolling window sized by tier (starter 100, professional 190,
  limit pack 250), reported in ``X-HubSpot-RateLimit-Max``/``-Remaining``;
* a daily allowance (250k / 650k / 1M) that resets at midnight (UTC here);
* the search endpoints' own 5 requests per second, which do not count toward the
  ten-second window.

Rejected calls consume nothing. Whether HubSpot sends Retry-After is unverified,
so sending it is a switch (``send_retry_after``), off by default.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from datetime import date
from typing import Any

from masterops_sandbox.hubspot.errors import HubSpotError

TEN_SECONDS = 10.0


@dataclass(frozen=True)
class Tier:
    ten_secondly: int
    daily: int


TIERS: dict[str, Tier] = {
    "free": Tier(100, 250_000),
    "starter": Tier(100, 250_000),
    "professional": Tier(190, 650_000),
    "enterprise": Tier(190, 650_000),
    "limit_pack": Tier(250, 1_000_000),
}


def tier(name: str) -> Tier:
    found = TIERS.get(name)
    if found is None:
        raise ValueError(f"unknown HubSpot tier {name!r}; one of {sorted(TIERS)}")
    return found


#: Each policy's 429 message, as HubSpot words it.
POLICY_MESSAGES: dict[str, str] = {
    "TEN_SECONDLY_ROLLING": "You have reached your ten_secondly_rolling limit.",
    "SECONDLY": "You have reached your secondly limit.",
    "DAILY": "You have reached your daily limit.",
}


class RateLimited(HubSpotError):
    """A 429 with HubSpot's rate-limit body, which carries errorType and policyName.

    The limiter raises it, and fault injection builds its 429s from it too, so an
    injected rate limit is indistinguishable from a real one."""

    def __init__(self, policy: str, headers: dict[str, str], *, with_category: bool) -> None:
        super().__init__(429, "RATE_LIMITS", POLICY_MESSAGES[policy], headers=headers)
        self.policy = policy
        self.with_category = with_category

    def body(self, correlation_id: str) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "status": "error",
            "message": self.message,
            "errorType": "RATE_LIMIT",
            "correlationId": correlation_id,
            "policyName": self.policy,
        }
        if self.with_category:
            payload["category"] = self.category
        return payload


class PortalLimits:
    """The counters of one portal. Times are the sandbox clock's seconds."""

    def __init__(self, tier_name: str) -> None:
        chosen = tier(tier_name)
        self.tier_name = tier_name
        self.ten_secondly_max = chosen.ten_secondly
        self.daily_max = chosen.daily
        self.search_per_second = 5
        self._window: deque[float] = deque()
        self._search_window: deque[float] = deque()
        self.daily_used = 0
        self._day: date | None = None

    def set_tier(self, tier_name: str) -> None:
        chosen = tier(tier_name)
        self.tier_name = tier_name
        self.ten_secondly_max = chosen.ten_secondly
        self.daily_max = chosen.daily

    def reset(self) -> None:
        self._window.clear()
        self._search_window.clear()
        self.daily_used = 0

    def to_state(self) -> dict[str, Any]:
        """The tier, limits and the day's usage; the rolling windows last seconds and
        are left out."""
        return {
            "tier": self.tier_name,
            "ten_secondly_max": self.ten_secondly_max,
            "daily_max": self.daily_max,
            "search_per_second": self.search_per_second,
            "daily_used": self.daily_used,
            "day": None if self._day is None else self._day.isoformat(),
        }

    def load_state(self, state: dict[str, Any]) -> None:
        self.tier_name = state["tier"]
        self.ten_secondly_max = int(state["ten_secondly_max"])
        self.daily_max = int(state["daily_max"])
        self.search_per_second = int(state["search_per_second"])
        self.daily_used = int(state["daily_used"])
        self._day = None if state["day"] is None else date.fromisoformat(state["day"])

    def _roll(self, now: float, today: date) -> None:
        if self._day != today:
            self._day = today
            self.daily_used = 0
        horizon = now - TEN_SECONDS
        window = self._window
        while window and window[0] <= horizon:
            window.popleft()
        search = self._search_window
        while search and search[0] <= now - 1.0:
            search.popleft()

    def headers(self) -> dict[str, str]:
        return {
            "X-HubSpot-RateLimit-Daily": str(self.daily_max),
            "X-HubSpot-RateLimit-Daily-Remaining": str(max(0, self.daily_max - self.daily_used)),
            "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
            "X-HubSpot-RateLimit-Max": str(self.ten_secondly_max),
            "X-HubSpot-RateLimit-Remaining": str(max(0, self.ten_secondly_max - len(self._window))),
        }

    def admit(
        self,
        now: float,
        today: date,
        seconds_to_midnight: float,
        *,
        search: bool,
        retry_after: bool,
        with_category: bool,
    ) -> dict[str, str]:
        """Count one call, or raise ``RateLimited`` without counting it.

        Returns the rate-limit headers for the answer (none for search, which
        HubSpot leaves them off)."""
        self._roll(now, today)
        if self.daily_used >= self.daily_max:
            headers = self.headers()
            if retry_after:
                headers["Retry-After"] = str(max(1, math.ceil(seconds_to_midnight)))
            raise RateLimited("DAILY", headers, with_category=with_category)
        if search:
            if len(self._search_window) >= self.search_per_second:
                headers = {}
                if retry_after:
                    wait = self._search_window[0] + 1.0 - now
                    headers["Retry-After"] = str(max(1, math.ceil(wait)))
                raise RateLimited("SECONDLY", headers, with_category=with_category)
            self._search_window.append(now)
            self.daily_used += 1
            return {}
        if len(self._window) >= self.ten_secondly_max:
            headers = self.headers()
            if retry_after:
                wait = self._window[0] + TEN_SECONDS - now
                headers["Retry-After"] = str(max(1, math.ceil(wait)))
            raise RateLimited("TEN_SECONDLY_ROLLING", headers, with_category=with_category)
        self._window.append(now)
        self.daily_used += 1
        return self.headers()

    def snapshot(self) -> dict[str, Any]:
        return {
            "tier": self.tier_name,
            "ten_secondly_max": self.ten_secondly_max,
            "ten_secondly_used": len(self._window),
            "daily_max": self.daily_max,
            "daily_used": self.daily_used,
            "search_per_second": self.search_per_second,
        }
