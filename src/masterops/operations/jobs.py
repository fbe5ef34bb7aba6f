"""Sync jobs started on demand (the API, the dashboard's "sync now"), and their status.

A job is what one request asked for: one sync of one or several businesses. It is
enqueued as DBOS workflows, the very ones the schedules run (``jobs/durable.py``), on the
very queues (the sync queue, in the business's partition; the n8n queue): a job started
here never runs beside a scheduled sync of the same business. Whoever listens to those
queues runs it: every ``ops worker``, or ``ops serve --run-jobs`` on an installation with
no worker.

Enqueueing goes through a ``DBOSClient`` on the system database: it writes the workflow
rows without running (or importing) any job code, so this module needs nothing from the
``jobs`` entry point, and the web process needs no DBOS of its own. The workflow and
queue names are the registered ones (a test holds them to ``jobs/durable.py`` and
``jobs/queues.py``).

A job's id is 32 hex characters; each of its workflows has the id
``job-<job id>-<business>`` (``-executions`` for the n8n import, which covers every
business at once), so the job is found again by that prefix. With an idempotency key the
job id is derived from the key: the same key gives the same workflows, which DBOS starts
once, and the answer is the first job, whatever the second request asked.
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from masterops import __version__
from masterops.config import Config

if TYPE_CHECKING:
    from dbos import DBOSClient, WorkflowStatus

JobState = Literal["pending", "enqueued", "running", "succeeded", "failed"]

APP_NAME = "masterops"  # the DBOS application name every worker launches under
DEFAULT_SYSTEM_SCHEMA = "dbos"
PREFIX = "job-"
ENTITIES: tuple[str, ...] = ("inventory", "customers", "orders", "executions")
UNLEASHED_ENTITIES: tuple[str, ...] = ENTITIES[:3]
#: The registered workflow of each on-demand sync (``jobs/durable.py``).
WORKFLOW_NAMES: dict[str, str] = {
    "inventory": "masterops.sync_inventory",
    "customers": "masterops.sync_customers",
    "orders": "masterops.sync_orders",
    "executions": "masterops.sync_executions",
}
N8N_QUEUE = "sync-n8n"
#: Every Unleashed sync, partitioned by business (as ``jobs/queues.py`` registers it).
SYNC_QUEUE = "syncs"
_FAILED_RESULTS = ("failed", "interrupted")
NO_RUNNER_YET = (
    "no job runner has used this database yet: start `ops worker` (or `ops serve --run-jobs`) once"
)


class JobRefused(ValueError):
    """The job cannot be started as asked (an unknown entity or business, a business
    without the service): the message says what is wrong."""


class JobsUnavailable(RuntimeError):
    """The system database is unreachable, or no job runner has ever created it."""


def system_database(config: Config) -> tuple[str, str]:
    """Where DBOS keeps its workflows: ``(url, schema)``.

    On PostgreSQL, the platform's own database: every worker on every machine must share
    one system database, and that one is already reachable from all of them. The schema
    is ``dbos``, or ``<schema>_dbos`` when the URL pins a ``search_path`` (as the tests
    do), so that two platforms in one database never share workflows. Otherwise, a SQLite
    file beside the embedded database: SQLite allows one machine only, and a file of its
    own keeps DBOS's locking away from the platform's tables.
    """
    from sqlalchemy.engine import make_url

    url = config.database_url.get_secret_value()
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        schema = _search_path_schema(parsed.query.get("options"))
        return url, f"{schema}_dbos" if schema else DEFAULT_SYSTEM_SCHEMA
    return f"sqlite:///{config.home / 'dbos.sqlite'}", DEFAULT_SYSTEM_SCHEMA


def _search_path_schema(options: str | tuple[str, ...] | None) -> str | None:
    """The first schema of a ``-csearch_path=...`` in libpq ``options``, if any."""
    values = (options,) if isinstance(options, str) else options or ()
    for value in values:
        for part in value.split():
            if part.startswith("-csearch_path="):
                first = part.removeprefix("-csearch_path=").split(",")[0].strip().strip('"')
                return first or None
    return None


@dataclass(frozen=True, slots=True)
class JobRef:
    """A job just started (or found again by its idempotency key)."""

    job_id: str
    status: JobState
    entity: str
    businesses: tuple[str, ...]
    #: Whether this request started it (False: the idempotency key named an earlier job).
    created: bool = True


@dataclass(frozen=True, slots=True)
class JobStatus:
    """Where a job stands: ``results`` holds each finished workflow's summary rows (the
    sync's own figures), ``error`` the first failure's message."""

    job_id: str
    status: JobState
    entity: str
    #: The businesses it syncs; empty for the n8n import (every business at once).
    businesses: tuple[str, ...]
    created_at: datetime | None
    started_at: datetime | None
    ended_at: datetime | None
    results: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "job_id": self.job_id,
            "status": self.status,
            "entity": self.entity,
            "businesses": list(self.businesses),
            "created_at": self.created_at,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "results": self.results,
            "error": self.error,
        }


class JobQueue:
    """The platform's job queues, seen from a process that enqueues and reads jobs but
    runs none. Connects on first use; ``close()`` releases the connections."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._client: DBOSClient | None = None
        self._lock = threading.Lock()

    def client(self) -> DBOSClient:
        with self._lock:
            if self._client is None:
                from dbos import DBOSClient

                url, schema = system_database(self.config)
                if (
                    url.startswith("sqlite:///")
                    and not Path(url.removeprefix("sqlite:///")).exists()
                ):
                    raise JobsUnavailable(NO_RUNNER_YET)
                try:
                    self._client = DBOSClient(
                        system_database_url=url,
                        dbos_system_schema=schema,
                        application_name=APP_NAME,
                        system_database_pool_size=2,
                        retry_connection_errors=False,
                    )
                except Exception as exc:
                    raise JobsUnavailable(
                        f"the job database cannot be reached ({type(exc).__name__})"
                    ) from None
            return self._client

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.destroy()
                self._client = None


def job_id_for(idempotency_key: str | None) -> str:
    """A new job id, or the one an idempotency key always gives."""
    if idempotency_key is None:
        return uuid.uuid4().hex
    return hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]


def sync_targets(config: Config, entity: str, business: str | Sequence[str] | None) -> list[str]:
    """The businesses a sync of ``entity`` runs for: ``business``, or those of several
    (``business`` a sequence) or of every business (None) that use the service; ``[]``
    for the n8n import, which reads each n8n instance once for every business. Raises
    ``JobRefused`` with what is wrong."""
    if entity not in ENTITIES:
        raise JobRefused(f"unknown sync {entity!r}; known: {', '.join(ENTITIES)}")
    if entity == "executions":
        if business is not None:
            raise JobRefused("the executions sync imports every business at once; omit business")
        if not any("n8n" in b.services for b in config.businesses.values()):
            raise JobRefused("no business uses n8n: there are no executions to import")
        return []
    uses = [slug for slug, b in config.businesses.items() if "unleashed" in b.services]
    if isinstance(business, str):
        if business not in config.businesses:
            known = ", ".join(config.businesses) or "none"
            raise JobRefused(f"unknown business {business!r}; known: {known}")
        if business not in uses:
            raise JobRefused(f"business {business!r} does not use Unleashed: no {entity} to sync")
        return [business]
    # Several (e.g. every business a caller may act on): those of them that use Unleashed.
    slugs = uses if business is None else [slug for slug in uses if slug in business]
    if not slugs:
        among = "" if business is None else f" among {', '.join(business) or 'none'}"
        raise JobRefused(f"no business{among} uses Unleashed: no {entity} to sync")
    return slugs


def start_sync_job(
    jobs: JobQueue,
    entity: str,
    business: str | Sequence[str] | None = None,
    full: bool = False,
    idempotency_key: str | None = None,
) -> JobRef:
    """Enqueue a sync of ``entity`` for ``business`` (see ``sync_targets``) and return
    at once; ``job_status`` says how it goes. The same ``idempotency_key`` (callers
    should make it theirs, e.g. prefixed by who asks) gives the same job, started once."""
    targets = sync_targets(jobs.config, entity, business)
    job_id = job_id_for(idempotency_key)
    existing = job_status(jobs, job_id)
    if existing is not None:
        return JobRef(job_id, existing.status, existing.entity, existing.businesses, False)
    client = jobs.client()
    workflow = WORKFLOW_NAMES[entity]
    try:
        if entity == "executions":
            client.enqueue(_options(workflow, N8N_QUEUE, f"{PREFIX}{job_id}-executions"), full)
        for slug in targets:
            options = _options(workflow, SYNC_QUEUE, f"{PREFIX}{job_id}-{slug}")
            options["queue_partition_key"] = slug
            client.enqueue(options, slug, full)
    except Exception as exc:
        raise _unavailable(exc) from None
    return JobRef(job_id, "enqueued", entity, tuple(targets))


def _options(workflow: str, queue: str, workflow_id: str) -> Any:
    from dbos import EnqueueOptions

    return EnqueueOptions(
        workflow_name=workflow,
        queue_name=queue,
        workflow_id=workflow_id,
        # A worker only runs the workflows of its own version (runtime.py sets it).
        app_version=__version__,
    )


def _unavailable(exc: Exception) -> JobsUnavailable:
    text = str(exc).lower()
    if "no such table" in text or "does not exist" in text or "undefinedtable" in text:
        return JobsUnavailable(NO_RUNNER_YET)
    return JobsUnavailable(f"the job database cannot be reached ({type(exc).__name__})")


def job_status(jobs: JobQueue, job_id: str) -> JobStatus | None:
    """The job ``job_id``, or None when there is no such job."""
    if len(job_id) != 32 or any(c not in "0123456789abcdef" for c in job_id):
        return None
    statuses = _list(jobs, workflow_id_prefix=f"{PREFIX}{job_id}-")
    return _job(job_id, statuses) if statuses else None


def recent_jobs(jobs: JobQueue, limit: int = 20) -> list[JobStatus]:
    """The newest jobs started through ``start_sync_job``, newest first."""
    # A job has at most one workflow per business: that many rows cover ``limit`` jobs.
    per_job = max(1, len(jobs.config.businesses))
    statuses = _list(jobs, workflow_id_prefix=PREFIX, sort_desc=True, limit=limit * per_job)
    grouped: dict[str, list[WorkflowStatus]] = {}
    for status in statuses:
        grouped.setdefault(status.workflow_id[len(PREFIX) : len(PREFIX) + 32], []).append(status)
    return [_job(job_id, rows) for job_id, rows in list(grouped.items())[:limit]]


def _list(jobs: JobQueue, **filters: Any) -> list[WorkflowStatus]:
    try:
        return jobs.client().list_workflows(application_name=APP_NAME, **filters)
    except JobsUnavailable:
        raise
    except Exception as exc:
        raise _unavailable(exc) from None


_STATES: dict[str, JobState] = {
    "DELAYED": "enqueued",
    "ENQUEUED": "enqueued",
    "PENDING": "running",
    "SUCCESS": "succeeded",
}


def _state(status: WorkflowStatus) -> JobState:
    state = _STATES.get(str(status.status), "failed")  # ERROR, CANCELLED, too many recoveries
    # A sync that failed after doing part of its work returns its row, not an error.
    output = status.output
    if (
        state == "succeeded"
        and isinstance(output, dict)
        and output.get("status") in _FAILED_RESULTS
    ):
        return "failed"
    return state


def _job(job_id: str, statuses: list[WorkflowStatus]) -> JobStatus:
    statuses = sorted(statuses, key=lambda s: s.workflow_id)
    states = [_state(s) for s in statuses]
    status: JobState
    if "running" in states or ("enqueued" in states and len(set(states)) > 1):
        status = "running"
    elif "enqueued" in states:
        status = "enqueued"
    elif "failed" in states:
        status = "failed"
    else:
        status = "succeeded"
    entity = next((e for e, name in WORKFLOW_NAMES.items() if name == statuses[0].name), "")
    businesses = tuple(
        s.workflow_id.removeprefix(f"{PREFIX}{job_id}-")
        for s in statuses
        if not s.workflow_id.endswith("-executions")
    )
    results: list[dict[str, Any]] = []
    for s in statuses:
        if isinstance(s.output, dict):
            rows = s.output.get("runs", [s.output])  # the n8n import: one row per instance
            results.extend(dict(row) for row in rows if isinstance(row, dict))
    errors = [f"{type(s.error).__name__}: {s.error}" for s in statuses if s.error is not None]
    if not errors:
        errors = [
            str(r.get("message") or r.get("error"))
            for r in results
            if r.get("status") in _FAILED_RESULTS
        ]
    started = [s.dequeued_at for s in statuses if s.dequeued_at is not None]
    ended = [s.completed_at for s in statuses if s.completed_at is not None]
    done = status in ("succeeded", "failed") and len(ended) == len(statuses)
    return JobStatus(
        job_id=job_id,
        status=status,
        entity=entity,
        businesses=businesses,
        created_at=_instant(min((s.created_at for s in statuses if s.created_at), default=None)),
        started_at=_instant(min(started, default=None)),
        ended_at=_instant(max(ended)) if done else None,
        results=results,
        error=errors[0] if errors else None,
    )


def _instant(epoch_ms: int | None) -> datetime | None:
    return None if epoch_ms is None else datetime.fromtimestamp(epoch_ms / 1000, UTC)
