"""Who is asking: an API token (``Authorization: Bearer``) or, for reads, a dashboard
session; and whether its scope, businesses and rate allow the request.

Every refusal is JSON with a reason: 401 (no usable credential), 403 (a scope or a
business the token lacks), 429 (over its rate, with ``Retry-After``).
"""

from __future__ import annotations

from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from masterops.db.actor import bind_actor
from masterops.db.api_tokens import TokenGrant, digest, grant_by_digest
from masterops.web.ratelimit import RateLimiter
from masterops.web.responses import BadRequest
from masterops.web.sessions import SESSION_COOKIE, SessionStore

SAFE_METHODS = ("GET", "HEAD")
_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def unauthorized(code: str, message: str) -> BadRequest:
    return BadRequest(message, status=401, code=code, headers=_CHALLENGE)


def forbidden(code: str, message: str) -> BadRequest:
    return BadRequest(message, status=403, code=code)


def _presented_digest(request: Request) -> str:
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise unauthorized(
                "invalid_authorization", "the Authorization header must be 'Bearer <token>'"
            )
        return digest(token.strip())
    # A session cookie is enough to read; an action needs the bearer token (or, on the
    # dashboard's forms, the session's CSRF token, checked there), so a page elsewhere
    # can never make a signed-in browser act.
    sessions: SessionStore = request.app.state.sessions
    session = sessions.get(request.cookies.get(SESSION_COOKIE))
    if session is not None and request.method in SAFE_METHODS:
        return session.token_sha256
    raise unauthorized(
        "missing_token", "this route needs an API token: send 'Authorization: Bearer <token>'"
    )


async def authenticate(request: Request) -> TokenGrant:
    """The grant of the request's live token, counted against its rate limit."""
    return await live_grant(
        request, _presented_digest(request), "the token is unknown, revoked or expired"
    )


async def live_grant(request: Request, token_sha256: str, gone: str) -> TokenGrant:
    """The grant of the token with this digest, counted against its rate limit; 401
    saying ``gone`` when it no longer exists (revoked or expired)."""
    engine: Engine = request.app.state.engine

    def lookup() -> TokenGrant | None:
        with engine.connect() as conn:
            return grant_by_digest(conn, token_sha256)

    grant = await run_in_threadpool(lookup)
    if grant is None:
        raise unauthorized("invalid_token", gone)
    limiter: RateLimiter = request.app.state.rate_limiter
    wait = limiter.take(str(grant.id))
    if wait is not None:
        raise BadRequest(
            f"token {grant.name!r} is over its rate limit; retry in {wait} s",
            status=429,
            code="rate_limited",
            headers={"Retry-After": str(wait)},
        )
    # The audit trail's "who" for what this request changes (its context ends with it).
    bind_actor(f"api:{grant.name}")
    return grant


def require_scope(grant: TokenGrant, scope: str) -> None:
    if not grant.allows(scope):
        raise forbidden(
            "insufficient_scope",
            f"this needs a token of scope {scope} or wider; token {grant.name!r} is {grant.scope}",
        )


def require_every_business(grant: TokenGrant, what: str) -> None:
    """``what`` covers every business, so a token limited to some may not read it."""
    if grant.businesses is not None:
        raise forbidden(
            "business_scoped",
            f"{what} covers every business; token {grant.name!r} is limited to "
            f"{', '.join(grant.businesses)}",
        )


def visible_businesses(grant: TokenGrant, requested: str | None) -> list[str | None]:
    """The businesses a read covers: the one asked for (if the token sees it), else every
    business (``[None]``) or the token's own."""
    if requested is not None:
        if not grant.sees(requested):
            raise forbidden(
                "business_not_allowed",
                f"token {grant.name!r} may not read business {requested!r}",
            )
        return [requested]
    return [None] if grant.businesses is None else list(grant.businesses)
