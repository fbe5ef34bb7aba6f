"""The read-only GraphQL schema: businesses -> services -> health, syncs, workflows and
errors, in one query.

The list of businesses reads what the REST routes read (``web.readings.latest_health``);
their related records come through the request's ``loaders`` (``loaders.py``), which read
them for every business of the answer at once with the batched twins of the REST routes'
reads (``sync.state.recent_runs_of``, ``web.api.rows.workflow_summary_of``/
``workflow_failures_of``, ``db.queries.query_logs_of``): the statements a query costs do
not grow with the businesses it lists. Reads run in a worker thread (the engine is
synchronous), and only for the businesses the token sees. ``limit`` arguments are capped
like the REST routes' so that no query reads without bound.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any, TypeVar

import strawberry
from graphql import BREAK, GraphQLError, SelectionSetNode, ValidationRule
from sqlalchemy import Connection, Engine, select
from starlette.concurrency import run_in_threadpool
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
)
from strawberry.types import ExecutionContext, Info

from masterops.db.api_tokens import TokenGrant
from masterops.db.tables import businesses as businesses_table
from masterops.web.api.common import MAX_ROWS
from masterops.web.graphql.loaders import Loaders
from masterops.web.readings import latest_health, overall_status

T = TypeVar("T")
# Deep enough for a client's full introspection query (its type references nest about
# a dozen levels); this schema's own types nest four.
MAX_DEPTH = 15
MAX_TOKENS = 2000
MAX_ALIASES = 30
MAX_HOURS = 24 * 366


class LimitError(ValueError):
    """An argument out of range: the message names it."""


def _limit(name: str, value: int, high: int = MAX_ROWS) -> int:
    if not 1 <= value <= high:
        raise LimitError(f"{name} must be between 1 and {high}, got {value}")
    return value


def _grant(info: Info[Any, Any]) -> TokenGrant:
    grant: TokenGrant = info.context["grant"]
    return grant


async def _read(info: Info[Any, Any], reader: Callable[[Connection], T]) -> T:
    engine: Engine = info.context["engine"]

    def run() -> T:
        with engine.connect() as conn:
            return reader(conn)

    return await run_in_threadpool(run)


@strawberry.type(description="The newest stored check of one service.")
class Health:
    status: str
    latency_ms: float | None
    message: str | None
    breaker: str | None
    checked_at: datetime


@strawberry.type(description="One service of a business, with its newest check.")
class Service:
    name: str
    health: Health | None


@strawberry.type(description="One run of a sync, with its counts.")
class SyncRun:
    id: int
    entity: str
    status: str
    full: bool
    fetched: int
    written: int
    failed: int
    error_message: str | None
    started_at: datetime
    finished_at: datetime | None


@strawberry.type(description="A failed n8n execution.")
class WorkflowFailure:
    execution_id: str | None
    status: str
    started_at: datetime | None
    finished_at: datetime | None
    error_message: str | None


@strawberry.type(description="An n8n workflow's executions and failures over the window.")
class Workflow:
    workflow_id: str
    workflow_name: str | None
    executions: int
    failures: int
    last_started_at: datetime | None


@strawberry.type(description="An error line of the integration log.")
class ErrorLine:
    id: int
    created_at: datetime
    source: str | None
    service: str | None
    operation: str | None
    status: str | None
    message: str


@strawberry.type(description="A business: its services' health, syncs, workflows, errors.")
class Business:
    id: str
    name: str
    overall: str = strawberry.field(description="The worst status among its services.")
    services: list[Service]

    @strawberry.field(description="Its sync runs, newest first.")
    async def syncs(
        self, info: Info[Any, Any], entity: str | None = None, limit: int = 10
    ) -> list[SyncRun]:
        count = _limit("limit", limit)
        rows = await _loaders(info).syncs.load((self.id, (entity, count)))
        return [_build(SyncRun, row) for row in rows]

    @strawberry.field(description="Its n8n workflows over the last `hours`.")
    async def workflows(self, info: Info[Any, Any], hours: float = 24.0) -> list[Workflow]:
        since = _since(info, hours)
        rows = await _loaders(info).workflows.load((self.id, (since,)))
        return [_build(Workflow, row) for row in rows]

    @strawberry.field(description="Its failed n8n executions, newest first.")
    async def workflow_failures(
        self, info: Info[Any, Any], hours: float = 24.0, limit: int = 20
    ) -> list[WorkflowFailure]:
        since, count = _since(info, hours), _limit("limit", limit)
        rows = await _loaders(info).workflow_failures.load((self.id, (since, count)))
        return [_build(WorkflowFailure, row) for row in rows]

    @strawberry.field(description="Its newest error log lines, newest first.")
    async def errors(
        self, info: Info[Any, Any], hours: float = 24.0, limit: int = 20
    ) -> list[ErrorLine]:
        since, count = _since(info, hours), _limit("limit", limit)
        rows = await _loaders(info).errors.load((self.id, (since, count)))
        return [_build(ErrorLine, row) for row in reversed(rows)]


def _loaders(info: Info[Any, Any]) -> Loaders:
    loaders: Loaders = info.context["loaders"]
    return loaders


def _since(info: Info[Any, Any], hours: float) -> datetime:
    if not 0 < hours <= MAX_HOURS:
        raise LimitError(f"hours must be more than 0 and at most {MAX_HOURS}, got {hours}")
    return _loaders(info).now - timedelta(hours=hours)


def _build(cls: type[T], row: dict[str, Any]) -> T:
    """An object of ``cls`` from a row that may hold more columns than it shows."""
    fields = cls.__annotations__
    return cls(**{name: row.get(name) for name in fields})


def _businesses(conn: Connection, grant: TokenGrant, wanted: str | None) -> list[Business]:
    """The businesses with stored checks or in the registry, as the token sees them."""
    health = latest_health(conn)
    names = {r.id: r.name for r in conn.execute(select(businesses_table))}
    slugs = sorted({str(r["business_id"]) for r in health} | set(names))
    found: list[Business] = []
    for slug in slugs:
        if not grant.sees(slug) or wanted not in (None, slug):
            continue
        rows = [r for r in health if r["business_id"] == slug]
        services = [
            Service(
                name=str(r["service"]),
                health=_build(Health, r),
            )
            for r in rows
        ]
        found.append(
            Business(
                id=slug,
                name=names.get(slug, slug),
                overall=overall_status(rows),
                services=services,
            )
        )
    return found


@strawberry.type
class Query:
    @strawberry.field(
        description="Every business the token sees (or the one named), by id.",
    )
    async def businesses(self, info: Info[Any, Any], id: str | None = None) -> list[Business]:
        grant = _grant(info)
        return await _read(info, lambda c: _businesses(c, grant, id))


def _masked(error: GraphQLError) -> bool:
    """Hide what went wrong inside a resolver (SQL, paths) unless it is the client's own
    bad argument; parse and validation errors have no original error and stay as they are."""
    original = error.original_error
    return original is not None and not isinstance(original, LimitError)


class _NestingLimit(ValidationRule):
    """No selection set nested deeper than ``MAX_DEPTH`` as written, introspection
    included (strawberry's depth limit skips ``__schema``/``__type``; it follows
    fragments, which this rule does not need to: the token limit bounds a chain)."""

    def enter_selection_set(self, node: SelectionSetNode, *args: Any) -> Any:
        ancestors = args[3] if len(args) > 3 else ()
        depth = 1 + sum(isinstance(a, SelectionSetNode) for a in ancestors)
        if depth > MAX_DEPTH:
            self.report_error(
                GraphQLError(f"the query nests deeper than {MAX_DEPTH} levels", [node])
            )
            return BREAK
        return None


class _Schema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # A query refused (parse, validation) or a bad argument is the client's mistake,
        # answered as such: only what failed inside a resolver is logged, with its traceback.
        mine = [
            e
            for e in errors
            if e.original_error is not None and not isinstance(e.original_error, LimitError)
        ]
        super().process_errors(mine, execution_context)


schema = _Schema(
    query=Query,
    extensions=[
        # Factories: a fresh extension for every request.
        partial(MaskErrors, should_mask_error=_masked),
        partial(AddValidationRules, [_NestingLimit]),
        partial(QueryDepthLimiter, max_depth=MAX_DEPTH),
        partial(MaxTokensLimiter, max_token_count=MAX_TOKENS),
        partial(MaxAliasesLimiter, max_alias_count=MAX_ALIASES),
    ],
)
