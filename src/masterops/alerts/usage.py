"""Rules on how the services are being used: their error rate and their quotas.

- ``error_rate_conditions``: per (business, service), the share of api_metrics calls that
  failed within the last ``error_rate_window_s``: "degraded" above ``error_rate_percent``
  once there were at least ``error_rate_min_calls`` calls. A pair with calls in the last
  day but too few in the window is "healthy", so a recovery is announced when the
  traffic stops too.
- ``quota_conditions``: the share of a quota used, "degraded" from ``quota_warn_percent``
  and "down" from ``quota_critical_percent``: HubSpot's daily allowance as the newest
  health check of the business's HubSpot read it (``X-HubSpot-RateLimit-Daily*``), and
  Unleashed's calls this month (``api_quota_usage``) against ``unleashed_monthly_ceiling``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, select

from masterops.alerts.rules import Condition
from masterops.config import AlertRules, Config
from masterops.db.quota import calls_in_period
from masterops.db.tables import api_metrics, health_checks

#: How far back a (business, service) counts as "in use" for the error-rate rule.
IN_USE = timedelta(days=1)
#: The business of api_metrics rows that name none (the platform's own calls).
PLATFORM = "platform"


def error_rate_conditions(conn: Connection, rules: AlertRules, now: datetime) -> list[Condition]:
    """One condition per (business, service) with calls in the last day (see module)."""
    t = api_metrics
    window = now - timedelta(seconds=rules.error_rate_window_s)
    in_window = t.c.created_at >= window
    stmt = (
        select(
            t.c.business_id,
            t.c.service,
            func.count(t.c.id).filter(in_window),
            func.count(t.c.id).filter(in_window, t.c.success.is_(False)),
        )
        .where(t.c.created_at >= now - max(IN_USE, timedelta(seconds=rules.error_rate_window_s)))
        .group_by(t.c.business_id, t.c.service)
        .order_by(t.c.business_id, t.c.service)
    )
    minutes = rules.error_rate_window_s / 60
    found = []
    for business_id, service, calls, errors in conn.execute(stmt):
        rate = 100.0 * errors / calls if calls else 0.0
        if calls >= rules.error_rate_min_calls and rate > rules.error_rate_percent:
            status = "degraded"
            message = (
                f"{errors} of {calls} {service} calls failed in the last {minutes:g} min "
                f"({rate:.0f} %, above {rules.error_rate_percent:g} %)"
            )
        else:
            status = "healthy"
            message = f"{errors} of {calls} {service} calls failed in the last {minutes:g} min"
        found.append(Condition(business_id or PLATFORM, f"errors:{service}", status, message, now))
    return found


def quota_status(rules: AlertRules, used: float, limit: float) -> str:
    """The status of a quota ``used`` of ``limit`` (see module)."""
    share = 100.0 * used / limit
    if share >= rules.quota_critical_percent:
        return "down"
    if share >= rules.quota_warn_percent:
        return "degraded"
    return "healthy"


def _quota(
    rules: AlertRules, business: str, service: str, what: str, used: int, limit: int, now: datetime
) -> Condition:
    status = quota_status(rules, used, limit)
    share = 100.0 * used / limit
    message = f"{used} of {limit} {what} used ({share:.0f} %)"
    return Condition(business, f"quota:{service}", status, message, now)


def quota_conditions(conn: Connection, config: Config, now: datetime) -> list[Condition]:
    """One condition per business and quota with a reading (see module)."""
    rules = config.alerts
    found = []
    for slug, business in config.businesses.items():
        if business.hubspot is not None:
            reading = _hubspot_daily(conn, slug)
            if reading is not None:
                remaining, limit = reading
                found.append(
                    _quota(
                        rules,
                        slug,
                        "hubspot",
                        "HubSpot daily API calls",
                        limit - remaining,
                        limit,
                        now,
                    )
                )
        if business.unleashed is not None:
            ceiling = config.limits.unleashed_monthly_ceiling
            # A new month starts at nothing: the recovery of last month's alert.
            used = calls_in_period(conn, "unleashed", business.unleashed.api_id, at=now)
            what = "Unleashed calls this month"
            found.append(_quota(rules, slug, "unleashed", what, used, ceiling, now))
    return found


def _hubspot_daily(conn: Connection, business: str) -> tuple[int, int] | None:
    """(remaining, limit) of the daily allowance, from the newest health check of the
    business's HubSpot that read both; None before any did."""
    t = health_checks
    stmt = (
        select(t.c.details_json)
        .where(t.c.business_id == business, t.c.service == "hubspot")
        .order_by(t.c.id.desc())
        .limit(5)  # a failed check reads nothing: look a little further back
    )
    for (details,) in conn.execute(stmt):
        figures = _daily_figures(details)
        if figures is not None:
            return figures
    return None


def _daily_figures(details: Any) -> tuple[int, int] | None:
    if not isinstance(details, Mapping):
        return None
    remaining, limit = details.get("daily_remaining"), details.get("daily_limit")
    if isinstance(remaining, int) and isinstance(limit, int) and limit > 0:
        return remaining, limit
    return None
