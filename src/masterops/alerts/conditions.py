"""Rules that read the database for what went wrong outside a health round: each returns
one ``Condition`` per subject it watches, "healthy" included, so that a recovery is seen
(and announced) as soon as the trouble is over.

- ``sync_conditions``: the newest finished run of each (business, entity) failed ("down"),
  or HubSpot refused at least ``sync_refused_items`` of its items ("degraded").
- ``stale_conditions``: no successful run of an entity that has run before for
  ``stale_after_schedules`` times its schedule ("degraded").
- ``n8n_conditions``: the newest finished execution of each workflow failed ("down", with
  its node and message); a run of failures is one condition, so one alert per burst.
- ``webhook_conditions``: inbox events of a source that gave up ("failed") within the
  last ``webhook_failed_window_s`` ("degraded").
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, func, select

from masterops.alerts.rules import Condition
from masterops.config import AlertRules, CronJob, Schedules
from masterops.db.tables import sync_runs, webhook_inbox, workflow_execution_logs

#: The sync entities run on a schedule (``Schedules.period_s`` says how often).
SCHEDULED_ENTITIES: tuple[CronJob, ...] = ("inventory", "customers", "orders", "executions")


#: n8n's statuses of a failed execution (as sync/executions.py, a sibling this cannot import).
N8N_FAILED = ("error", "crashed")
#: n8n's statuses of an execution that is over.
N8N_FINISHED = ("success", *N8N_FAILED)
#: alert_history.service is 64 characters: "n8n:" and at most this much of a workflow id.
MAX_WORKFLOW_ID = 60


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
        .where(sync_runs.c.entity.in_(SCHEDULED_ENTITIES))
        .group_by(sync_runs.c.business_id, sync_runs.c.entity)
        .order_by(sync_runs.c.business_id, sync_runs.c.entity)
    )
    found = []
    for business_id, entity, at in conn.execute(last_success):
        interval = timedelta(seconds=schedules.period_s(entity))
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


def n8n_conditions(conn: Connection, now: datetime) -> list[Condition]:
    """One condition per (business, workflow) with a finished execution (see module)."""
    t = workflow_execution_logs
    newest = (
        select(func.max(t.c.id))
        .where(t.c.status.in_(N8N_FINISHED))
        .group_by(t.c.business_id, t.c.workflow_id)
    )
    stmt = select(t).where(t.c.id.in_(newest.scalar_subquery())).order_by(t.c.id)
    found = []
    for run in conn.execute(stmt):
        name = run.workflow_name or run.workflow_id
        if run.status in N8N_FAILED:
            details = run.error_details_json if isinstance(run.error_details_json, dict) else {}
            node = details.get("node")
            at_node = f" at node {node!r}" if node else ""
            reason = run.error_message or details.get("message") or "no message recorded"
            status = "down"
            message = (
                f"n8n workflow {name!r} failed{at_node} (execution {run.execution_id}): {reason}"
            )
        else:
            status, message = "healthy", f"n8n workflow {name!r} succeeded"
        found.append(
            Condition(
                run.business_id or "n8n",
                f"n8n:{run.workflow_id[:MAX_WORKFLOW_ID]}",
                status,
                message,
                run.finished_at or now,
            )
        )
    return found


def webhook_conditions(conn: Connection, rules: AlertRules, now: datetime) -> list[Condition]:
    """One condition per (business, source) with inbox events (see module)."""
    t = webhook_inbox
    since = now - timedelta(seconds=rules.webhook_failed_window_s)
    gave_up = func.count(t.c.id).filter(t.c.status == "failed", t.c.received_at >= since)
    stmt = (
        select(t.c.business_id, t.c.source, gave_up)
        .group_by(t.c.business_id, t.c.source)
        .order_by(t.c.business_id, t.c.source)
    )
    found = []
    for business_id, source, failed in conn.execute(stmt):
        if failed:
            status = "degraded"
            message = f"{failed} {source} webhook event(s) gave up after their retries"
        else:
            status, message = "healthy", f"no {source} webhook event gave up"
        found.append(Condition(business_id or source, f"webhooks:{source}", status, message, now))
    return found
