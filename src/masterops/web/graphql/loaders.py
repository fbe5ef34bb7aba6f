"""The related records of the businesses in one GraphQL answer, read together.

A list of N businesses asking for their syncs would otherwise read once per business.
Each field has a ``DataLoader`` per request: the resolvers of every business ask it for
``(business id, arguments)`` and it answers all of them with one statement per distinct
set of arguments, through the batched reads (``*_of``) beside the REST routes' own.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Hashable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine
from starlette.concurrency import run_in_threadpool
from strawberry.dataloader import DataLoader

from masterops.db.queries import query_logs_of
from masterops.sync.state import recent_runs_of
from masterops.web.api.rows import workflow_failures_of, workflow_summary_of

Rows = list[dict[str, Any]]
Key = tuple[str, tuple[Hashable, ...]]  # (business id, the field's arguments)
BatchRead = Callable[..., dict[str, Rows]]  # (conn, business ids, *arguments)


def _batched(engine: Engine, read: BatchRead) -> DataLoader[Key, Rows]:
    async def load(keys: list[Key]) -> list[Rows]:
        wanted: dict[tuple[Hashable, ...], list[str]] = {}
        for business_id, args in keys:
            wanted.setdefault(args, []).append(business_id)

        def run() -> dict[tuple[Hashable, ...], dict[str, Rows]]:
            with engine.connect() as conn:
                return {args: read(conn, ids, *args) for args, ids in wanted.items()}

        found = await run_in_threadpool(run)
        return [found[args].get(business_id, []) for business_id, args in keys]

    return DataLoader(load)


def _syncs(
    conn: Connection, ids: Collection[str], entity: str | None, limit: int
) -> dict[str, Rows]:
    return recent_runs_of(conn, ids, entity=entity, limit=limit)


def _errors(conn: Connection, ids: Collection[str], since: datetime, limit: int) -> dict[str, Rows]:
    return query_logs_of(conn, ids, filters={"level": "error"}, since=since, limit=limit)


class Loaders:
    """One per request. ``now`` is the request's one clock reading, so that every
    business's ``hours`` window is the same argument and batches together."""

    def __init__(self, engine: Engine, now: datetime | None = None) -> None:
        self.now = now or datetime.now(UTC)
        self.syncs = _batched(engine, _syncs)
        self.workflows = _batched(engine, workflow_summary_of)
        self.workflow_failures = _batched(engine, workflow_failures_of)
        self.errors = _batched(engine, _errors)
