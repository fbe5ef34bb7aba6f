"""What every API route shares: the grant dependencies, strict query strings, reading
on a worker thread, and merging one read per business."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Path, Request
from fastapi.security import HTTPBearer
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool

from masterops.db.api_tokens import TokenGrant
from masterops.timeparse import parse_instant
from masterops.web.auth import authenticate, require_scope
from masterops.web.responses import JSON, BadRequest, check_params

MAX_ROWS = 1000
#: A row id in a path: bounded, so a huge number is a 400, never an integer the
#: database cannot hold (a 500).
RowId = Annotated[int, Path(ge=1, le=2**62)]

# Documents the bearer scheme in the OpenAPI document; authenticate() does the checking
# (the same way for every route, with JSON refusals).
_bearer = HTTPBearer(auto_error=False, description="An API token from `ops tokens create`.")


_Documented = Annotated[Any, Depends(_bearer)]


def _needs(scope: str) -> Callable[..., Any]:
    async def dependency(request: Request, _: _Documented) -> TokenGrant:
        grant = await authenticate(request)
        require_scope(grant, scope)
        return grant

    return dependency


Reader = Annotated[TokenGrant, Depends(_needs("read"))]
Operator = Annotated[TokenGrant, Depends(_needs("operate"))]


def strict_query(request: Request) -> None:
    """Refuse query parameters the route does not take (a typo must not widen a query)
    and values with a NUL (no database can compare with one)."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    names: set[str] = set()
    if dependant is not None:
        names = {p.alias for p in _flat_query_params(dependant)}
    check_params(request.query_params, names)


def _flat_query_params(dependant: Any) -> Iterable[Any]:
    yield from dependant.query_params
    for sub in dependant.dependencies:
        yield from _flat_query_params(sub)


def instant(name: str, raw: str | None) -> datetime | None:
    if raw is None:
        return None
    try:
        return parse_instant(raw)
    except ValueError as exc:
        raise BadRequest(f"{name}: {exc}") from None


async def read(request: Request, reader: Callable[[Connection], Any]) -> JSON:
    """Run ``reader`` on a connection in a worker thread (the engine is synchronous)."""

    def run() -> Any:
        with request.app.state.engine.connect() as conn:
            return reader(conn)

    return JSON(await run_in_threadpool(run))


def merged(
    parts: Iterable[list[dict[str, Any]]], *, key: str, limit: int, newest_first: bool = True
) -> list[dict[str, Any]]:
    """One read per business, as one list ordered by ``key`` then id, cut to ``limit``."""
    rows = [row for part in parts for row in part]
    rows.sort(key=lambda r: (r[key] is not None, r[key] or 0, r["id"]), reverse=newest_first)
    return rows[:limit]
