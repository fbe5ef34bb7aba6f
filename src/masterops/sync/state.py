"""Sync bookkeeping: watermarks (where to resume) and runs (what each run did).

The watermark moves only when a run succeeds; inside a run, each page of records is
committed with its page number (``sync/pages.py``), so a process killed mid-run loses
at most the page in flight and the next run resumes after the last committed page.
A run still "running" when the next one starts was killed: it is marked "interrupted".
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import Connection, Select, insert, select, update

from masterops.db.per_group import rows_by_group
from masterops.db.tables import sync_runs, sync_state
from masterops.db.upsert import upsert

RunStatus = Literal["running", "succeeded", "failed", "interrupted"]


def get_watermark(conn: Connection, business_id: str, entity: str) -> str | None:
    return conn.execute(
        select(sync_state.c.watermark).where(
            sync_state.c.business_id == business_id, sync_state.c.entity == entity
        )
    ).scalar()


def set_watermark(
    conn: Connection,
    business_id: str,
    entity: str,
    watermark: str | None,
    details: Mapping[str, Any] | None = None,
) -> None:
    upsert(
        conn,
        sync_state,
        [
            {
                "business_id": business_id,
                "entity": entity,
                "watermark": watermark,
                "details_json": dict(details) if details else None,
                "updated_at": datetime.now(UTC),
            }
        ],
        keys=["business_id", "entity"],
    )


def start_run(
    conn: Connection, business_id: str, entity: str, *, full: bool, watermark: str | None
) -> int:
    """Record a new run; earlier runs of the same sync left "running" become "interrupted"."""
    now = datetime.now(UTC)
    conn.execute(
        update(sync_runs)
        .where(
            sync_runs.c.business_id == business_id,
            sync_runs.c.entity == entity,
            sync_runs.c.status == "running",
        )
        .values(status="interrupted", finished_at=now)
    )
    run_id = conn.execute(
        insert(sync_runs)
        .values(
            business_id=business_id,
            entity=entity,
            status="running",
            full=full,
            fetched=0,
            written=0,
            failed=0,
            watermark_before=watermark,
            started_at=now,
        )
        .returning(sync_runs.c.id)
    ).scalar_one()
    return int(run_id)


def finish_run(
    conn: Connection,
    run_id: int,
    status: RunStatus,
    *,
    fetched: int,
    written: int,
    failed: int,
    watermark: str | None,
    error_message: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> None:
    conn.execute(
        update(sync_runs)
        .where(sync_runs.c.id == run_id)
        .values(
            status=status,
            fetched=fetched,
            written=written,
            failed=failed,
            watermark_after=watermark,
            error_message=error_message,
            details_json=dict(details) if details else None,
            finished_at=datetime.now(UTC),
        )
    )


_NEWEST_RUNS = (sync_runs.c.started_at.desc(), sync_runs.c.id.desc())


def _runs(entity: str | None) -> Select[Any]:
    stmt = select(sync_runs)
    if entity:
        stmt = stmt.where(sync_runs.c.entity == entity)
    return stmt


def recent_runs(
    conn: Connection, *, business_id: str | None = None, entity: str | None = None, limit: int = 20
) -> list[dict[str, Any]]:
    stmt = _runs(entity).order_by(*_NEWEST_RUNS)
    if business_id:
        stmt = stmt.where(sync_runs.c.business_id == business_id)
    return [dict(r._mapping) for r in conn.execute(stmt.limit(limit))]


def recent_runs_of(
    conn: Connection, business_ids: Collection[str], *, entity: str | None = None, limit: int = 20
) -> dict[str, list[dict[str, Any]]]:
    """``recent_runs`` of each business, in one statement: by business id."""
    stmt = _runs(entity).where(sync_runs.c.business_id.in_(business_ids))
    return rows_by_group(conn, stmt, sync_runs.c.business_id, order_by=_NEWEST_RUNS, limit=limit)
