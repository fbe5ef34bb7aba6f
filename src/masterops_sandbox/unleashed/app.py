"""Assembling the Unleashed imitation: the Starlette app inside its harness."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from masterops_sandbox.accounts import SandboxAccount
from masterops_sandbox.faults import RateLimitAnswer
from masterops_sandbox.harness import ServiceHarness
from masterops_sandbox.unleashed.auth import UnleashedAuth
from masterops_sandbox.unleashed.errors import UnleashedError, error_response, refuse
from masterops_sandbox.unleashed.routes import unleashed_routes
from masterops_sandbox.unleashed.sandbox import UnleashedSandbox


async def _unleashed_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, UnleashedError)
    return error_response(exc.status, exc.description)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        description = f"No resource at {request.url.path}"
    elif exc.status_code == 405:
        description = f"{request.method} is not allowed on {request.url.path}"
    else:
        description = exc.detail
    return error_response(exc.status_code, description, dict(exc.headers or {}))


async def _server_error(request: Request, exc: Exception) -> Response:
    return error_response(500, f"Internal error in the Unleashed sandbox: {type(exc).__name__}")


def unleashed_app(sandbox: UnleashedSandbox) -> Starlette:
    """The ASGI app answering the Unleashed API for ``sandbox``'s accounts."""
    return Starlette(
        routes=unleashed_routes(),
        middleware=[
            Middleware(
                UnleashedAuth, accounts=sandbox.accounts_by_api_id, switches=sandbox.switches
            )
        ],
        exception_handlers={
            UnleashedError: _unleashed_error,
            HTTPException: _http_error,
            Exception: _server_error,
        },
    )


#: What an injected 429 says. Unleashed documents no per-second limit and its words are
#: unverified; the body is its error body, as for every refusal.
RATE_LIMITED = "Too many requests: the API call rate limit was reached; retry after a while"


def injected_rate_limit() -> RateLimitAnswer:
    """The 429 fault injection answers with: the quota block's refusal (same body shape,
    same headers, through the same code) for a limit that passes, so ``Retry-After``
    (whole seconds, when the switch sets one) instead of ``X-Quota-Reset``, which marks
    the month's block that no retry can get past."""

    def answer(scope: Scope, retry_after: int | None, policy: str | None) -> ASGIApp:
        extra = [] if retry_after is None else [(b"retry-after", str(retry_after).encode())]

        async def limited(scope: Scope, receive: Receive, send: Send) -> None:
            await refuse(send, 429, RATE_LIMITED, extra)

        return limited

    return answer


def build_unleashed(
    accounts: Mapping[str, SandboxAccount],
    *,
    seed: int = 0,
    volume: int = 300,
    monthly_quota: int = 15_000,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> tuple[UnleashedSandbox, ServiceHarness]:
    """The seeded Unleashed imitation for ``accounts``: its Python API and its harness."""
    sandbox = UnleashedSandbox(
        accounts, seed=seed, volume=volume, monthly_quota=monthly_quota, now=now
    )
    harness = ServiceHarness(
        name="unleashed",
        app=unleashed_app(sandbox),
        state=sandbox.state,
        rate_limited=injected_rate_limit(),
    )
    return sandbox, harness


def create_unleashed(
    accounts: Mapping[str, SandboxAccount],
    *,
    seed: int = 0,
    volume: int = 300,
    monthly_quota: int = 15_000,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> ServiceHarness:
    """Like ``build_unleashed``, for callers that need only the harness."""
    return build_unleashed(
        accounts, seed=seed, volume=volume, monthly_quota=monthly_quota, now=now
    )[1]
