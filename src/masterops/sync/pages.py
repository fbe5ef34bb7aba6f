"""Durable progress inside a sync: the last page of each stage committed with its records.

A sync reads Unleashed page by page and stores each page in its own transaction. The
same transaction records the page number in ``sync_page_progress`` (business, entity,
stage): a run killed mid-walk (a worker's ``kill -9``, a crash) leaves the last page it
stored, and the next run of the same sync resumes after it instead of from page 1, and
skips a stage it had finished. So pages stored before a kill are never fetched again,
and each is written once.

The resume holds only while the walk reads the same thing: the same watermark (or a
full read) and the same page size; otherwise the stage starts again from page 1 (always
safe: the stores are upserts). A resumed walk also keeps the time its first attempt
started (``walk_started``), and the run moves the watermark to that, not to its own
start: anything Unleashed changed while the sync was down is read by the next run. The
rows are deleted when a run succeeds, in the transaction that moves the watermark.

``recorded_run`` opens a ``WalkProgress`` for each run (``tracking``); ``walk_pages``
reads it from the context, so no sync passes it along.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, delete, select

from masterops.db.tables import sync_page_progress
from masterops.db.upsert import upsert

FULL = "full"


@dataclass(frozen=True, slots=True)
class StageProgress:
    """How far a stage's walk got: ``page`` stored last; ``done`` when it stored its last."""

    page: int
    done: bool


@dataclass(slots=True)
class WalkProgress:
    """The page progress of one run of one sync (see the module)."""

    business_id: str
    entity: str
    #: The watermark the run reads changes since, or ``FULL``.
    read_from: str
    run_id: int
    #: When this run started (the connector's clock), or its first attempt if resumed.
    walk_started: str
    #: What an earlier, unfinished run of the same walk left, by stage.
    left: dict[str, tuple[int, StageProgress]] = field(default_factory=dict)

    @property
    def resumed(self) -> bool:
        return bool(self.left)

    def resume_point(self, stage: str, page_size: int) -> StageProgress | None:
        """Where ``stage`` resumes: None for page 1."""
        found = self.left.get(stage)
        if found is None or found[0] != page_size:
            return None
        return found[1]

    def commit(
        self, conn: Connection, stage: str, page_size: int, page: int, *, done: bool
    ) -> None:
        """Record, in the page's own transaction, that ``page`` of ``stage`` is stored."""
        upsert(
            conn,
            sync_page_progress,
            [
                {
                    "business_id": self.business_id,
                    "entity": self.entity,
                    "stage": stage,
                    "read_from": self.read_from,
                    "page_size": page_size,
                    "page": page,
                    "done": done,
                    "walk_started": self.walk_started,
                    "run_id": self.run_id,
                    "updated_at": datetime.now(UTC),
                }
            ],
            keys=["business_id", "entity", "stage"],
        )


def open_progress(
    conn: Connection,
    business_id: str,
    entity: str,
    *,
    read_from: str,
    run_id: int,
    started: str,
) -> WalkProgress:
    """The progress of a run about to walk from ``read_from``: what an unfinished run of
    the same walk left is kept to resume from; what one reading from elsewhere left is
    dropped."""
    t = sync_page_progress
    mine = (t.c.business_id == business_id, t.c.entity == entity)
    rows = conn.execute(select(t).where(*mine)).all()
    stale = [r.stage for r in rows if r.read_from != read_from]
    if stale:
        conn.execute(delete(t).where(*mine, t.c.stage.in_(stale)))
    kept = [r for r in rows if r.read_from == read_from]
    left = {r.stage: (int(r.page_size), StageProgress(int(r.page), bool(r.done))) for r in kept}
    walk_started = min((str(r.walk_started) for r in kept), default=started)
    return WalkProgress(business_id, entity, read_from, run_id, walk_started, left)


def clear_progress(conn: Connection, business_id: str, entity: str) -> None:
    """Forget the walk's progress: the run that made it finished."""
    t = sync_page_progress
    conn.execute(delete(t).where(t.c.business_id == business_id, t.c.entity == entity))


#: The progress of the run in progress in this task (``tracking``).
_current: ContextVar[tuple[Engine, WalkProgress] | None] = ContextVar("walk_progress", default=None)


@contextlib.contextmanager
def tracking(engine: Engine, progress: WalkProgress) -> Iterator[None]:
    """Inside the block, ``walk_pages`` records and resumes from ``progress``."""
    token = _current.set((engine, progress))
    try:
        yield
    finally:
        _current.reset(token)


def current() -> tuple[Engine, WalkProgress] | None:
    return _current.get()
