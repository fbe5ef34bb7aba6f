"""``Config.schedules`` as DBOS schedules.

DBOS 3.4 schedules are cron expressions (six fields, seconds first) stored in the system
database: every worker may apply them and each run still starts once, because a run's
workflow id is the schedule's name and its time. An interval is turned into the cron
expression that fires every so many seconds, minutes or hours; an interval cron cannot
express evenly (every 45 s, every 7 min) runs at the next shorter one that it can,
so a job never runs less often than configured. ``[schedules.cron]`` replaces a job's
interval by an expression of the operator's, evaluated in ``[schedules] timezone``;
housekeeping (``[retention]``) runs by its cron expression only.

Which jobs exist is ``SCHEDULED_JOBS``; a new job needs its workflow in ``durable.py``
and its entry here. The Unleashed syncs of one business share its queue, so inventory,
customers and orders of a business never run at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, get_args

from masterops.config import Config, CronJob, longest_gap_s
from masterops.jobs.queues import HEALTH_QUEUE, N8N_QUEUE, WEBHOOK_QUEUE, sync_queue
from masterops.reports.schedule import TICK_MINUTES

JobName = Literal[
    "health", "inventory", "customers", "orders", "executions", "webhooks", "housekeeping"
]
#: Every job, the one list (``ops worker --once`` offers the same).
JOB_NAMES: tuple[JobName, ...] = get_args(JobName)
#: What a schedule runs: a job, or the reports' tick (``ops report`` sends on demand; the
#: tick sends each business's scheduled reports at its local time, see reports/schedule.py).
ScheduledJob = JobName | Literal["reports"]

# Job -> (Schedules field, scope). "business": one schedule per business using the
# service; "platform": one schedule for everything. (Housekeeping: see plan_schedules.)
SCHEDULED_JOBS: dict[CronJob, tuple[str, Literal["platform", "business"]]] = {
    "health": ("health_seconds", "platform"),
    "inventory": ("inventory_seconds", "business"),
    "customers": ("customers_seconds", "business"),
    "orders": ("orders_seconds", "business"),
    "executions": ("executions_seconds", "platform"),
    "webhooks": ("webhooks_seconds", "platform"),
}

_SECONDS_STEPS = (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30)  # divisors of 60
_MINUTE_STEPS = (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30)
_HOUR_STEPS = (1, 2, 3, 4, 6, 8, 12)  # divisors of 24


@dataclass(frozen=True)
class JobSchedule:
    """One schedule: ``job`` runs at ``cron`` (in ``timezone``), at most ``period_s``
    seconds apart, with ``context`` (plain data) as its argument, on ``queue`` (None:
    DBOS's own)."""

    name: str
    job: ScheduledJob
    cron: str
    period_s: int
    context: dict[str, Any] = field(default_factory=dict)
    queue: str | None = None
    timezone: str = "UTC"


def cron_every(seconds: int) -> tuple[str, int]:
    """The cron expression firing every ``seconds`` or, when cron cannot, at the longest
    period it can that is shorter; and that period."""
    if seconds < 1:
        raise ValueError(f"an interval must be at least 1 second, got {seconds}")
    if seconds < 60:
        step = max(s for s in _SECONDS_STEPS if s <= seconds)
        return f"*/{step} * * * * *", step
    if seconds < 3600:
        step = max(m for m in _MINUTE_STEPS if m * 60 <= seconds)
        return ("0 * * * * *" if step == 1 else f"0 */{step} * * * *"), step * 60
    if seconds < 86_400:
        step = max(h for h in _HOUR_STEPS if h * 3600 <= seconds)
        return ("0 0 * * * *" if step == 1 else f"0 0 */{step} * * *"), step * 3600
    return "0 0 0 * * *", 86_400  # daily at most: syncs are incremental


def plan_schedules(config: Config) -> list[JobSchedule]:
    """Every schedule this configuration asks for, in a stable order."""
    schedules: list[JobSchedule] = []
    zone = config.schedules.timezone
    for job, (setting, scope) in SCHEDULED_JOBS.items():
        cron, period = _job_cron(config, job, setting)
        if job == "health":
            schedules.append(JobSchedule("health", job, cron, period, {}, HEALTH_QUEUE, zone))
        elif job == "webhooks":
            # Events arrive only through `ops serve`, which needs a business with a
            # HubSpot client secret or an order webhook secret; without one there is
            # never anything to process.
            if any(
                (b.hubspot and b.hubspot.client_secret) or b.order_webhook_secret
                for b in config.businesses.values()
            ):
                schedules.append(
                    JobSchedule("webhooks", job, cron, period, {}, WEBHOOK_QUEUE, zone)
                )
        elif job == "executions":
            if any("n8n" in b.services for b in config.businesses.values()):
                schedules.append(
                    JobSchedule("sync-executions", job, cron, period, {}, N8N_QUEUE, zone)
                )
        elif scope == "business":
            for slug, business in config.businesses.items():
                if "unleashed" in business.services:
                    schedules.append(
                        JobSchedule(
                            f"sync-{job}-{slug}",
                            job,
                            cron,
                            period,
                            {"business_id": slug},
                            sync_queue(slug),
                            zone,
                        )
                    )
    if config.reports.scheduled and config.businesses and _reports_can_go(config):
        # A tick, not a cron per report: cron is UTC and a business's 07:00 is local.
        period = TICK_MINUTES * 60
        schedules.append(JobSchedule("reports", "reports", cron_every(period)[0], period))
    if config.retention.enabled:
        cron = config.retention.schedule
        # On the health queue: one run at a time across every worker, never overlapping.
        schedules.append(
            JobSchedule(
                "housekeeping",
                "housekeeping",
                cron,
                longest_gap_s(cron, zone),
                {},
                HEALTH_QUEUE,
                zone,
            )
        )
    return schedules


def _job_cron(config: Config, job: CronJob, setting: str) -> tuple[str, int]:
    """The job's cron expression and longest period: the operator's own from
    ``[schedules.cron]``, else its interval's."""
    expression = config.schedules.cron.get(job)
    if expression is not None:
        return expression, config.schedules.period_s(job)
    return cron_every(int(getattr(config.schedules, setting)))


def scheduled_workflow(job: ScheduledJob) -> Callable[[datetime, Any], None]:
    """The DBOS workflow a schedule of ``job`` starts (imports DBOS)."""
    from masterops.jobs.durable import SCHEDULED_WORKFLOWS
    from masterops.jobs.housekeeping import scheduled_housekeeping

    if job == "housekeeping":
        return scheduled_housekeeping
    return SCHEDULED_WORKFLOWS[job]


def _reports_can_go(config: Config) -> bool:
    """Somewhere to send a report: recipients, or the Slack webhook. Without either the
    tick would only record failures."""
    return bool(config.reports.email_to) or bool(config.reports.slack and config.slack_webhook_url)


def apply_schedules(schedules: list[JobSchedule]) -> list[str]:
    """Make the system database's schedules exactly ``schedules``: create or replace
    them and delete the ones this platform no longer asks for (a business removed, a
    job dropped). Call after ``DBOS.launch()`` and after the queues are registered.
    Returns the names of the schedules deleted."""
    from dbos import DBOS

    DBOS.apply_schedules(
        [
            {
                "schedule_name": s.name,
                "workflow_fn": scheduled_workflow(s.job),
                "schedule": s.cron,
                "context": s.context,
                "queue_name": s.queue,
                "cron_timezone": None if s.timezone == "UTC" else s.timezone,
            }
            for s in schedules
        ]
    )
    wanted = {s.name for s in schedules}
    # list_schedules lists this application's schedules only: other apps sharing the
    # system database keep theirs.
    stale = [s["schedule_name"] for s in DBOS.list_schedules() if s["schedule_name"] not in wanted]
    for name in stale:
        DBOS.delete_schedule(name)
    return stale
