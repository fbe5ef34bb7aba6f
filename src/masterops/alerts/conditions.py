"""Rules that read the database for what went wrong outside a health round: each returns
one ``Condition`` per subject it watches, "healthy" included, so that a recovery is seen
(and announced) as soon as the trouble is over.

- ``sync_conditions``: the newest finished run of each (business, entity) failed ("down"),
  or HubSpot refused at least ``sync_refused_items`` of its items ("degraded").
- ``stale_conditions``: no successful run of an entity that has run before for
  ``stale_after_schedules`` times its schedule ("degraded").
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, func, select

from masterops.alerts.rules import Condition
from masterops.config import AlertRules, Schedules
from masterops.db.tables import sync_runs

#: The scheduled interval of each sync entity, from ``[schedules]``.
SCHEDULE_FIELD = {
    "inventory": "inventory_seconds",
    "customers": "customers_seconds",
    "orders": "orders_seconds",
    "executions": "executions_seconds",
}


def sync_conditions(conn: Connection, rules: AlertRules, now: datetime) -> list[Condition]:
    """One condition per (business, entity) that has a finished run (see module)."""
    finished = sync_runs.c.status.in_(("succeeded", "failed"))
    newest = (
        select(func.max(sync_runs.c.id))
        .where(finished)
        .group_by(sync_runs.c.business_id, sync_runs.c.entity)
    )
    stmt = (
        select(sync_runs)
        .where(sync_runs.c.id.in_(newest.scalar_subquery()))
        .order_by(sync_runs.c.business_id, sync_runs.c.entity)
    )
    found = []
    for run in conn.execute(stmt):
        if run.status == "failed":
            status = "down"
            message = f"the {run.entity} sync failed: {run.error_message or 'no reason recorded'}"
        elif run.failed >= rules.sync_refused_items:
            status = "degraded"
            message = f"the {run.entity} sync finished, but {run.failed} item(s) were refused"
        else:
            status = "healthy"
            message = f"the {run.entity} sync succeeded"
        found.append(
            Condition(
                run.business_id, f"sync:{run.entity}", status, message, run.finished_at or now
            )
        )
    return found


def stale_conditions(
    conn: Connection, rules: AlertRules, schedules: Schedules, now: datetime
) -> list[Condition]:
    """One condition per scheduled (business, entity) that has ever run (see module)."""
    last_success = (
        select(
            sync_runs.c.business_id,
            sync_runs.c.entity,
            func.max(sync_runs.c.finished_at).filter(sync_runs.c.status == "succeeded"),
        )
        .where(sync_runs.c.entity.in_(SCHEDULE_FIELD))
        .group_by(sync_runs.c.business_id, sync_runs.c.entity)
        .order_by(sync_runs.c.business_id, sync_runs.c.entity)
    )
    found = []
    for business_id, entity, at in conn.execute(last_success):
        interval = timedelta(seconds=getattr(schedules, SCHEDULE_FIELD[entity]))
        limit = interval * rules.stale_after_schedules
        if at is not None and now - at <= limit:
            status, message = "healthy", f"{entity} data was synced at {at:%Y-%m-%d %H:%M} UTC"
        else:
            since = "ever" if at is None else f"since {at:%Y-%m-%d %H:%M} UTC"
            status = "degraded"
            message = (
                f"no successful {entity} sync {since} "
                f"(more than {rules.stale_after_schedules:g} times its {interval} schedule)"
            )
        found.append(Condition(business_id, f"stale:{entity}", status, message, now))
    return found
