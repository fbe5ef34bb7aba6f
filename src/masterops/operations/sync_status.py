"""Why did a sync fail? The reads behind ``ops sync status``, ``ops sync show`` and the
sync-run API: each run with its counts and duration, and the items HubSpot refused
grouped by reason (``sync/refusals.py`` keeps them)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, select

from masterops.db.tables import sync_runs
from masterops.operations.errors import UsageError
from masterops.operations.sync import SYNC_ENTITIES
from masterops.sync.refusals import latest_runs, run_refusals, with_reasons

#: The reasons ``ops sync status`` and ``/sync/runs`` show per run (the most frequent).
TOP_REASONS = 3


def _timed(run: Mapping[str, Any]) -> dict[str, Any]:
    """``run`` with ``duration_s``: None while it is running (or was killed)."""
    started, finished = run.get("started_at"), run.get("finished_at")
    duration = None
    if started is not None and finished is not None:
        duration = round((finished - started).total_seconds(), 3)
    return {**run, "duration_s": duration}


def runs_with_reasons(conn: Connection, runs: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """``runs`` (``sync_runs`` rows), each with ``duration_s``, ``refused_count`` and its
    ``top_reasons`` (``[{"reason", "count"}]``, most frequent first)."""
    return [_timed(r) for r in with_reasons(conn, runs, per_run=TOP_REASONS)]


def check_entity(entity: str | None) -> None:
    """``UsageError`` naming the syncs when ``entity`` is not one of them."""
    if entity is not None and entity not in SYNC_ENTITIES:
        raise UsageError(f"--entity: unknown sync {entity!r}; known: {', '.join(SYNC_ENTITIES)}")


def latest_status(
    conn: Connection,
    *,
    businesses: Sequence[str] | None = None,
    entity: str | None = None,
) -> list[dict[str, Any]]:
    """The newest run of each business and entity, with its reasons (``runs_with_reasons``)."""
    return runs_with_reasons(conn, latest_runs(conn, business_ids=businesses, entity=entity))


def find_run(conn: Connection, run_id: int) -> dict[str, Any] | None:
    """Run ``run_id`` with its reasons, or None when there is no such run."""
    row = conn.execute(select(sync_runs).where(sync_runs.c.id == run_id)).first()
    if row is None:
        return None
    [run] = runs_with_reasons(conn, [dict(row._mapping)])
    return run


def run_detail(conn: Connection, run_id: int, *, limit: int | None = None) -> dict[str, Any]:
    """Run ``run_id`` (``find_run``) and its refused items (the first ``limit``), under
    ``refused``. ``UsageError`` when there is no such run."""
    run = find_run(conn, run_id)
    if run is None:
        raise UsageError(f"no sync run {run_id} (see 'ops sync status' for recent runs)")
    return {**run, "refused": run_refusals(conn, run_id, limit=limit)}


def reason_lines(run: Mapping[str, Any]) -> list[str]:
    """Why a run failed, a line each: its error, its most frequent reasons with their
    counts, most frequent first, and how many refused items more."""
    lines: list[str] = []
    if run.get("error_message"):
        lines.append(str(run["error_message"]))
    shown = 0
    for group in run.get("top_reasons", []):
        lines.append(f"{group['count']} \u00d7 {group['reason']}")
        shown += int(group["count"])
    others = int(run.get("refused_count", 0)) - shown
    if others > 0:
        lines.append(f"{others} more refused item(s) for other reasons: ops sync show {run['id']}")
    return lines


def duration_text(seconds: float | None) -> str:
    """A duration for a person: "0.42s", "12.3s", "4m 05s", "2h 03m"."""
    if seconds is None:
        return ""
    if seconds < 10:
        return f"{seconds:.2f}s"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"
