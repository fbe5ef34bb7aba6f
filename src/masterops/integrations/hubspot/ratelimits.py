"""HubSpot's rate limits as the connector sees them.

* the burst limit per 10 s, sized by the portal's tier (the "default" bucket);
* search's own 5 requests per second, which do not count toward the burst ("search");
* the daily allowance, reported in ``X-HubSpot-RateLimit-Daily``/``-Daily-Remaining``.
  When it is spent HubSpot answers 429 with ``policyName: "DAILY"`` until midnight in the
  account's time zone; retrying before then only adds errors (HubSpot asks that errors
  stay under 5 % of daily calls), so the connector turns that 429 into a wait until
  midnight, which the base's retry loop refuses as beyond its deadline: one fast
  ``RATE_LIMIT`` error instead of four useless attempts.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta, tzinfo

import httpx

from masterops.integrations.base import LimitSpec
from masterops.integrations.base.telemetry import header_int

#: Calls per rolling 10 s by tier (private apps).
TIER_BURST: Mapping[str, int] = {
    "free": 100,
    "starter": 100,
    "professional": 190,
    "enterprise": 190,
    "limit_pack": 250,
}
BURST_WINDOW_S = 10.0
#: Below this share of the daily allowance left, the connector logs a warning.
DAILY_WARN_RATIO = 0.10

_DAILY = "x-hubspot-ratelimit-daily"
_DAILY_REMAINING = "x-hubspot-ratelimit-daily-remaining"


def bucket_limits(tier: str, search_per_second: int) -> dict[str, LimitSpec]:
    """The connector's buckets: "default" sized by ``tier`` per 10 s, "search" per second."""
    try:
        burst = TIER_BURST[tier.lower()]
    except KeyError:
        known = ", ".join(sorted(TIER_BURST))
        raise ValueError(f"unknown HubSpot tier {tier!r}; one of {known}") from None
    return {
        "default": LimitSpec(burst, BURST_WINDOW_S),
        "search": LimitSpec(search_per_second, 1.0),
    }


def policy_name(response: httpx.Response) -> str | None:
    """The ``policyName`` of a 429 body (``DAILY``, ``TEN_SECONDLY_ROLLING``, ``SECONDLY``)."""
    body = response.content
    if not body or body.lstrip()[:1] != b"{":
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return None
    name = data.get("policyName") if isinstance(data, dict) else None
    return name if isinstance(name, str) else None


def seconds_until_midnight(now: datetime, tz: tzinfo) -> float:
    """Seconds from ``now`` to the next midnight in ``tz`` (at least one second)."""
    local = now.astimezone(tz)
    midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(1.0, (midnight - local).total_seconds())


class DailyAllowance:
    """The last daily figures HubSpot reported, and whether they crossed the warning line.

    Search answers carry no rate-limit headers, so the figures are as of the last other call.
    """

    def __init__(self, warn_ratio: float = DAILY_WARN_RATIO) -> None:
        self.warn_ratio = warn_ratio
        self.limit: int | None = None
        self.remaining: int | None = None
        self._low = False

    def observe(self, headers: httpx.Headers) -> bool:
        """Record the daily headers; True only on the answer that first shows the allowance
        below ``warn_ratio`` (again after it recovered, e.g. at midnight)."""
        remaining = header_int(headers.get(_DAILY_REMAINING))
        if remaining is None:
            return False
        limit = header_int(headers.get(_DAILY))
        if limit is not None and limit > 0:
            self.limit = limit
        self.remaining = remaining
        low = self.limit is not None and remaining < self.limit * self.warn_ratio
        crossed = low and not self._low
        self._low = low
        return crossed

    def exhausted(self) -> None:
        """A DAILY 429 arrived: nothing is left, whatever the last header said."""
        self.remaining = 0
