"""The secret rules: a configured secret unchanged for longer than
``alerts.secret_max_age_days`` (degraded: time to rotate), and an API token expiring
within ``alerts.token_expiry_warn_days`` (degraded: rotate it before it stops working).

Ages come from ``secret_records``, which ``ops secrets check`` and ``ops secrets rotate``
keep (never a value); a secret never checked has no known age and no condition.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, select

from masterops.alerts.rules import Condition
from masterops.config import Config
from masterops.db.tables import api_tokens, secret_records

PLATFORM = "platform"


def secret_conditions(conn: Connection, config: Config, now: datetime) -> list[Condition]:
    rules = config.alerts
    changed = dict(
        conn.execute(select(secret_records.c.variable, secret_records.c.changed_at)).all()
    )
    found = []
    for source in config.secret_sources:
        since = changed.get(source.variable)
        if since is None:
            continue
        days = (now - since).days
        if days > rules.secret_max_age_days:
            status = "degraded"
            message = (
                f"{source.variable} has not changed for {days} days (limit "
                f"{rules.secret_max_age_days}): rotate it (ops secrets rotate)"
            )
        else:
            status, message = "healthy", f"{source.variable} changed {days} days ago"
        business = source.business or PLATFORM
        found.append(Condition(business, f"secret:{source.variable}"[:64], status, message, now))
    warn = timedelta(days=rules.token_expiry_warn_days)
    tokens = conn.execute(
        select(api_tokens.c.name, api_tokens.c.expires_at).where(
            api_tokens.c.revoked_at.is_(None),
            api_tokens.c.expires_at.is_not(None),
            api_tokens.c.expires_at > now,
            ~api_tokens.c.name.contains("@retiring-"),
        )
    )
    for name, expires_at in tokens:
        soon = expires_at - now <= warn
        message = (
            f"API token {name!r} expires {expires_at:%Y-%m-%d %H:%M} UTC: "
            f"ops secrets rotate api-token --name {name}"
            if soon
            else f"API token {name!r} expires {expires_at:%Y-%m-%d}"
        )
        subject = f"token:{name}"[:64]
        found.append(Condition(PLATFORM, subject, "degraded" if soon else "healthy", message, now))
    return found
