"""n8n execution history into ``workflow_execution_logs``, incrementally.

One n8n instance usually serves every business, so a run reads the instance once and
tags each row with the business its workflow belongs to (from the workflow's tags or
its name prefix, "Teelixir - ..."), falling back to the business the sync ran for.

How a run proceeds, and why it is safe to kill at any point:

1. The watermark (sync_state, entity "executions") is the newest ``started_at`` a
   *completed* run has stored. The list is read newest first down to
   ``watermark - overlap``: executions that were running at the last sync finish later
   and must be read again; the upsert by ``execution_id`` makes re-reading harmless.
2. Each page is upserted in its own transaction, so the work done survives a kill.
3. The watermark moves only at the end of a run, in the same transaction as the last
   write. Records arrive newest first: advancing it after the first page would make a
   rerun of a killed run start above the pages it never reached, and skip them for
   good. Keeping it put means a rerun reads the killed run's window again (cheaply:
   unchanged rows are not rewritten) and nothing is ever skipped.
4. The public API leaves out of every list the executions that are running and those
   paused at a Wait node (while they wait; on resuming they keep their id and get a new
   start time). Ids count up on an instance, so such an execution is a hole in the ids
   read: each hole is read by id (a 404 was deleted). Holes not read yet (a bound per run)
   are kept in ``sync_state.details_json`` for the next run, with the highest id seen.
   Rows stored as unfinished are re-read by id until they finish. On a run where nothing
   changed, that is one list of workflows and one of executions, and nothing else.
5. Execution ids count from 1 on every n8n instance: rows are keyed by (instance,
   execution_id), the instance being the n8n URL.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select, update

from masterops.db.tables import sync_state, workflow_execution_logs
from masterops.db.upsert import upsert
from masterops.integrations.base import ErrorCategory, IntegrationError
from masterops.integrations.n8n import MAX_PAGE_SIZE, Execution, N8nConnector, Workflow
from masterops.sync.common import Progress
from masterops.sync.runs import Count, SyncKind, SyncResult, Tally, Watermark, recorded_run

ENTITY = "executions"
KIND = SyncKind(
    entity=ENTITY,
    operation="sync_executions",
    label="execution sync",
    service="n8n",
    # One instance serves every business: the summary names none.
    opening="{label}",
    # A failed run is returned, not raised: its callers report it beside the others.
    raises=False,
    counts=(
        Count("executions_read", "fetched", "{} read"),
        #: Rows inserted or changed, not rows read.
        Count("executions_written", "written", ", {} written"),
        #: Records too odd to store (the history behind them still is).
        Count("executions_unstored", "failed", ", {} could not be stored", "unstored"),
        #: Executions the lists left out, read by id (see the module doc, point 4).
        Count("holes_read"),
        #: Unfinished rows n8n no longer has (pruned): kept as last seen.
        Count("stale_missing"),
    ),
)
#: How far below the watermark each incremental run reads again (see the module doc).
DEFAULT_OVERLAP = timedelta(hours=1)
#: Statuses of executions that may still change; n8n lists them apart from the others.
UNFINISHED = ("running", "waiting", "new")
FAILED_EXECUTION_STATUSES = frozenset({"error", "crashed"})
#: Failed executions whose details (message, node) are fetched at once.
DETAIL_CONCURRENCY = 4
#: Stale unfinished rows refreshed one by one per run (a bound, not a target).
MAX_STALE_REFRESH = 100
#: Holes in the ids (running or waiting executions) read by id per run, newest first.
MAX_HOLE_READS = 100
#: Holes carried to the next run at most (the newest): older ones were deleted, surely.
MAX_OPEN_HOLES = 1000
# "Teelixir <en dash> stock sync", "BOO - orders", "RHF: import": the part before the separator.
_PREFIX = re.compile(r"^\s*(.+?)\s*(?:[\u2013\u2014]|\s-\s|:)")
# Columns that, when unchanged, make a re-read execution a no-op (no write, not counted).
_COMPARED = (
    "workflow_id",
    "workflow_name",
    "status",
    "mode",
    "started_at",
    "finished_at",
    "duration_ms",
    "error_message",
    "business_id",
)


class BusinessMatcher:
    """Which configured business a workflow belongs to: a tag naming the business wins,
    then the name's prefix; ``None`` when neither says.

    A business is known by its slug, its name, the name's first word ("Elevate") and its
    initials ("BOO" for Buy Organics Online). An alias two businesses share says nothing.
    """

    def __init__(self, businesses: Iterable[tuple[str, str]]) -> None:
        owners: dict[str, set[str]] = {}
        for slug, name in businesses:
            for alias in _aliases(slug, name):
                owners.setdefault(alias, set()).add(slug)
        self._aliases = {a: next(iter(s)) for a, s in owners.items() if len(s) == 1}

    def business_of(self, workflow: Workflow | None) -> str | None:
        if workflow is None:
            return None
        for tag in workflow.tag_names:
            found = self._aliases.get(tag.strip().lower())
            if found:
                return found
        match = _PREFIX.match(workflow.name)
        return self._aliases.get(match.group(1).lower()) if match else None


def _aliases(slug: str, name: str) -> set[str]:
    words = name.split()
    aliases = {slug.lower(), name.strip().lower()}
    if words:
        aliases.add(words[0].lower())
    if len(words) > 1:
        aliases.add("".join(w[0] for w in words).lower())
    return {a for a in aliases if a}


def instance_of(connector: N8nConnector) -> str:
    """The n8n instance a connector reads: its account, which is the instance's URL when
    configured (without any credentials a URL may carry)."""
    account = str(connector.account).rstrip("/")
    scheme, sep, rest = account.partition("://")
    if not sep:
        return account
    host, slash, path = rest.partition("/")
    return f"{scheme}://{host.rsplit('@', 1)[-1]}{slash}{path}"


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat()


def _node_counts(data: dict[str, Any] | None) -> tuple[int | None, int | None]:
    """(nodes executed, nodes failed) from the run data, or Nones when it was not read."""
    if not isinstance(data, dict):
        return None, None
    result = data.get("resultData")
    run_data = result.get("runData") if isinstance(result, dict) else None
    if not isinstance(run_data, dict):
        return None, None
    failed = sum(
        1
        for runs in run_data.values()
        if isinstance(runs, list) and any(isinstance(r, dict) and r.get("error") for r in runs)
    )
    return len(run_data), failed


def execution_row(
    execution: Execution,
    *,
    instance: str,
    workflows: dict[str, Workflow],
    matcher: BusinessMatcher,
    default_business: str,
) -> dict[str, Any]:
    """The ``workflow_execution_logs`` row of one execution. Run data itself is not kept:
    it is large and holds customers' records; only the counts and the error survive."""
    workflow = workflows.get(execution.workflow_id)
    duration = execution.duration_s
    failed = execution.status in FAILED_EXECUTION_STATUSES
    executed, nodes_failed = _node_counts(execution.data)
    details = (
        {"node": execution.error_node, "message": execution.error_message}
        if failed and (execution.error_node or execution.error_message)
        else None
    )
    extra = {
        "finished": execution.finished,
        "retry_of": execution.retry_of,
        "retry_success_id": execution.retry_success_id,
        "wait_till": _iso(execution.wait_till),
    }
    return {
        "instance": instance,
        "workflow_id": execution.workflow_id,
        "workflow_name": workflow.name if workflow else None,
        "execution_id": execution.id,
        "status": execution.status,
        "mode": execution.mode,
        "started_at": execution.started_at,
        "finished_at": execution.stopped_at,
        "duration_ms": None if duration is None else round(duration * 1000.0, 3),
        "error_message": execution.error_message if failed else None,
        "error_details_json": details,
        "nodes_executed": executed,
        "nodes_failed": nodes_failed,
        "business_id": matcher.business_of(workflow) or default_business,
        "triggered_by": execution.mode,
        "data_json": {k: v for k, v in extra.items() if v is not None},
    }


class _Run:
    """The state of one run: what was seen, what was written, where the watermark goes."""

    def __init__(
        self,
        connector: N8nConnector,
        engine: Engine,
        tally: Tally,
        *,
        business_id: str,
        newest: datetime | None,
        matcher: BusinessMatcher,
        page_size: int,
        on_progress: Progress | None,
    ) -> None:
        self.connector = connector
        self.engine = engine
        self.tally = tally
        self.business_id = business_id
        self.matcher = matcher
        self.page_size = page_size
        self.on_progress = on_progress
        self.done = 0  # executions read so far, for ``on_progress``
        self.instance = instance_of(connector)
        self.workflows: dict[str, Workflow] = {}
        self.seen: set[str] = set()
        self.newest = newest
        #: The highest execution id seen by earlier runs, and holes they left unread.
        self.max_id: int | None = None
        self.open_holes: set[int] = set()

    def load_state(self) -> None:
        """Claim rows stored before executions had an instance, and read where the last
        run left the ids."""
        table = workflow_execution_logs
        with self.engine.begin() as conn:
            conn.execute(update(table).where(table.c.instance == "").values(instance=self.instance))
            details = conn.execute(
                select(sync_state.c.details_json).where(
                    sync_state.c.business_id == self.business_id,
                    sync_state.c.entity == ENTITY,
                )
            ).scalar()
        if isinstance(details, dict):
            max_id = details.get("max_id")
            self.max_id = max_id if isinstance(max_id, int) else None
            holes = details.get("open_holes")
            if isinstance(holes, list):
                self.open_holes = {h for h in holes if isinstance(h, int)}

    async def read_holes(self, *, full: bool) -> None:
        """Read by id the executions the list left out (see the module doc, point 4)."""
        listed = {int(i) for i in self.seen if i.isdigit()}
        holes = set(self.open_holes)
        if listed:
            top = max(listed)
            bottom = min(listed) if full or self.max_id is None else self.max_id
            holes |= set(range(bottom + 1, top + 1)) - listed
            self.max_id = max(top, self.max_id or 0)
        stored = await asyncio.to_thread(self._stored_ids, holes)
        wanted = sorted(holes - stored - listed, reverse=True)
        found: list[Execution] = []
        for execution_id in wanted[:MAX_HOLE_READS]:
            execution = await self._get_or_none(execution_id)
            if execution is not None:
                found.append(execution)
        self.open_holes = set(wanted[MAX_HOLE_READS:][:MAX_OPEN_HOLES])
        # Above the highest id seen, the newest executions may all be running or waiting:
        # read on by id until one is not there (one 404 on a run where nothing changed).
        above = self.max_id
        while above is not None and len(found) < MAX_HOLE_READS:
            above += 1
            execution = await self._get_or_none(above)
            if execution is None:
                break
            found.append(execution)
            self.max_id = above
        if found:
            self.tally["holes_read"] = len(found)
            await self.write(found)

    async def _get_or_none(self, execution_id: int) -> Execution | None:
        try:
            return await self.connector.get_execution(str(execution_id), missing_expected=True)
        except IntegrationError as exc:
            if exc.category is not ErrorCategory.NOT_FOUND:
                raise
            return None  # deleted, or not there yet

    def _stored_ids(self, ids: set[int]) -> set[int]:
        if not ids:
            return set()
        table = workflow_execution_logs
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(table.c.execution_id).where(
                    table.c.instance == self.instance,
                    table.c.execution_id.in_([str(i) for i in ids]),
                )
            )
            return {int(r[0]) for r in rows if str(r[0]).isdigit()}

    async def load_workflows(self) -> None:
        pages = self.connector.list_workflows(page_size=MAX_PAGE_SIZE)
        async with contextlib.aclosing(pages):
            self.workflows = {w.id: w async for w in pages}

    async def read(self, *, status: str | None = None, since: datetime | None = None) -> None:
        """One listing, newest first, written page by page."""
        executions = self.connector.list_executions(
            status=status, since=since, page_size=self.page_size
        )
        page: list[Execution] = []
        async with contextlib.aclosing(executions):
            async for execution in executions:
                if execution.id in self.seen:
                    continue  # a record on two passes (finished between them): once is enough
                page.append(execution)
                if len(page) >= self.page_size:
                    await self.write(page)
                    page = []
        if page:
            await self.write(page)

    async def refresh_stale(self) -> None:
        """Rows stored as unfinished that no listing returned again: read each one."""
        stale = await asyncio.to_thread(self._stored_unfinished)
        fresh: list[Execution] = []
        for execution_id in [e for e in stale if e not in self.seen][:MAX_STALE_REFRESH]:
            try:
                fresh.append(
                    await self.connector.get_execution(execution_id, missing_expected=True)
                )
            except IntegrationError as exc:
                if exc.category is not ErrorCategory.NOT_FOUND:
                    raise
                # Deleted in n8n (pruned): the row stays as it was last seen.
                self.tally.add("stale_missing")
        if fresh:
            await self.write(fresh)

    def _stored_unfinished(self) -> list[str]:
        table = workflow_execution_logs
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(table.c.execution_id)
                .where(table.c.instance == self.instance, table.c.status.in_(UNFINISHED))
                .order_by(table.c.started_at)
            )
            return [str(r[0]) for r in rows]

    async def write(self, page: Sequence[Execution]) -> None:
        self.tally.add("executions_read", len(page))
        self.seen.update(e.id for e in page)
        page = await self._with_failure_details(page)
        rows: list[dict[str, Any]] = []
        for execution in page:
            try:
                rows.append(
                    execution_row(
                        execution,
                        instance=self.instance,
                        workflows=self.workflows,
                        matcher=self.matcher,
                        default_business=self.business_id,
                    )
                )
            except Exception:  # one odd record must not stop the history behind it
                self.tally.add("executions_unstored")
        self.tally.add("executions_written", await asyncio.to_thread(self._upsert_changed, rows))
        for execution in page:
            started = execution.started_at
            if started is not None and (self.newest is None or started > self.newest):
                self.newest = started
        self.done += len(page)
        if self.on_progress is not None:
            # n8n gives no total up front: the bar counts upward.
            self.on_progress(ENTITY, self.done, None)

    async def _with_failure_details(self, page: Sequence[Execution]) -> list[Execution]:
        """The page with each failure re-read with its run data (message, failing node).

        The list is read without run data (it is large); only failures need it, and only
        those not already stored with their message.
        """
        failures = [
            e.id for e in page if e.status in FAILED_EXECUTION_STATUSES and e.error_message is None
        ]
        if not failures:
            return list(page)
        known = await asyncio.to_thread(self._stored_with_message, failures)
        wanted = [i for i in failures if i not in known]
        gate = asyncio.Semaphore(DETAIL_CONCURRENCY)

        async def detail(execution_id: str) -> Execution | None:
            async with gate:
                try:
                    return await self.connector.get_execution(
                        execution_id, include_data=True, missing_expected=True
                    )
                except IntegrationError as exc:
                    if exc.category is ErrorCategory.NOT_FOUND:
                        return None  # deleted since it was listed: store what the list said
                    raise

        found = await asyncio.gather(*(detail(i) for i in wanted))
        detailed = {e.id: e for e in found if e is not None}
        out: list[Execution] = []
        for execution in page:
            if execution.id in known:
                stored_message, stored_node = known[execution.id]
                execution = execution.model_copy(
                    update={"error_message": stored_message, "error_node": stored_node}
                )
            out.append(detailed.get(execution.id, execution))
        return out

    def _stored_with_message(self, ids: list[str]) -> dict[str, tuple[str, str | None]]:
        table = workflow_execution_logs
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(
                    table.c.execution_id, table.c.error_message, table.c.error_details_json
                ).where(
                    table.c.instance == self.instance,
                    table.c.execution_id.in_(ids),
                    table.c.error_message.is_not(None),
                )
            )
            out: dict[str, tuple[str, str | None]] = {}
            for execution_id, message, details in rows:
                node = details.get("node") if isinstance(details, dict) else None
                out[str(execution_id)] = (str(message), node if isinstance(node, str) else None)
            return out

    def _upsert_changed(self, rows: list[dict[str, Any]]) -> int:
        """Upsert the rows that are new or differ from what is stored; how many that was."""
        if not rows:
            return 0
        table = workflow_execution_logs
        columns = [table.c[name] for name in _COMPARED]
        with self.engine.begin() as conn:
            stored = {
                str(r.execution_id): tuple(getattr(r, name) for name in _COMPARED)
                for r in conn.execute(
                    select(table.c.execution_id, *columns).where(
                        table.c.instance == self.instance,
                        table.c.execution_id.in_([r["execution_id"] for r in rows]),
                    )
                )
            }
            changed = [
                r
                for r in rows
                if stored.get(r["execution_id"]) != tuple(r[name] for name in _COMPARED)
            ]
            upsert(conn, table, changed, keys=["instance", "execution_id"])
        return len(changed)

    def watermark(self) -> Watermark:
        """The newest start time stored, and where the ids were left (see the module doc)."""
        return Watermark(
            _iso(self.newest),
            {
                "fetched": self.tally["executions_read"],
                "max_id": self.max_id,
                "open_holes": sorted(self.open_holes),
            },
        )


async def sync_executions(
    connector: N8nConnector,
    engine: Engine,
    *,
    business_id: str,
    full: bool = False,
    page_size: int = 100,
    on_progress: Progress | None = None,
    businesses: Iterable[tuple[str, str]] = (),
    overlap: timedelta = DEFAULT_OVERLAP,
) -> SyncResult:
    """Copy the n8n instance's executions into ``workflow_execution_logs``.

    ``business_id`` keys the watermark and the run and is the business of workflows
    nothing else places; ``businesses`` ((slug, name) pairs) are the ones a workflow's
    tags or name prefix may name. ``on_progress`` gets ("executions", read so far, None) after
    each page. Failures are recorded (run "failed", an error event) and returned in the
    result, not raised; a cancellation marks the run "interrupted" and propagates.
    Raises ``SyncLocked`` (recording nothing) while another run of this sync holds its lock.
    """
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}, got {page_size}")
    matcher = BusinessMatcher([(business_id, business_id), *businesses])

    # This sync's own work; recorded_run wraps it in the run bookkeeping (the lock is
    # the instance's: one run per instance at a time, see sync/locks.py).
    async def stages(tally: Tally, since: datetime | None) -> Watermark:
        run = _Run(
            connector,
            engine,
            tally,
            business_id=business_id,
            newest=since,
            matcher=matcher,
            page_size=page_size,
            on_progress=on_progress,
        )
        await asyncio.to_thread(run.load_state)
        await run.load_workflows()
        tally.stage = "executions"
        await run.read(since=None if since is None else since - overlap)
        tally.stage = "holes"
        await run.read_holes(full=full)
        tally.stage = "stale"
        await run.refresh_stale()
        return run.watermark()

    return await recorded_run(
        KIND,
        connector,
        engine,
        business_id=business_id,
        full=full,
        stages=stages,
        first_stage="workflows",
    )
