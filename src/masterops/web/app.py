"""``create_app``: the application ``ops serve`` runs.

Routes::

    POST /webhooks/hubspot      HubSpot webhooks (v3 signature) -> the webhook inbox
    POST /webhooks/orders/{business}   signed sales orders -> the webhook inbox
    GET  /healthz, /readyz      liveness; readiness (database reachable, schema current)
    *    /api/v1/...            the JSON API (FastAPI; OpenAPI at /api/v1/openapi.json)
    GET|POST /graphql           read-only GraphQL over the same reads (same tokens)
    GET  /metrics               Prometheus text format
    GET  /, /integrations, ...  the dashboard (web/pages: server-rendered, htmx, live)
    GET|POST /signin, POST /signout   the dashboard's session

Everything but the webhook receiver and the two probes needs an API token (``ops
tokens create``): ``Authorization: Bearer``, or the dashboard's session cookie to read.
The app holds an engine, settings, the sessions and the rate limiter, nothing else: it
never reads the environment and every request opens (and returns) its own connection,
so it runs unchanged in tests, in ``ops serve`` and behind any ASGI server.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

from masterops.web.api import build_api
from masterops.web.auth import authenticate, require_every_business
from masterops.web.bodylimit import BodyLimit
from masterops.web.graphql import GraphQLEndpoint
from masterops.web.group_commit import GroupCommit
from masterops.web.headers import SecurityHeaders
from masterops.web.metrics import metrics
from masterops.web.orders_webhook import receive_order
from masterops.web.pages import page_routes
from masterops.web.probes import healthz, readyz
from masterops.web.ratelimit import RateLimiter
from masterops.web.responses import BadRequest, error
from masterops.web.sessions import SessionStore
from masterops.web.settings import WebSettings
from masterops.web.signin import signin, signin_form, signout
from masterops.web.webhooks import receive_hubspot


async def _bad_request(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BadRequest)
    return error(exc.status, exc.code, exc.message, exc.headers)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return error(404, "not_found", f"nothing at {request.url.path}")
    if exc.status_code == 405:
        return error(405, "method_not_allowed", f"{request.method} is not allowed here")
    return error(exc.status_code, "http_error", str(exc.detail))


async def _metrics(request: Request) -> Response:
    require_every_business(await authenticate(request), "/metrics")
    return await metrics(request)


GRAPHQL_BODY_LIMIT = 64 * 1024


def create_app(engine: Engine, settings: WebSettings | None = None) -> Starlette:
    """The HTTP service on ``engine`` (a migrated database)."""
    settings = settings or WebSettings()
    api = build_api()
    inbox_writer = GroupCommit(engine)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        # Stopping: the deliveries still being written are stored before the process ends.
        await inbox_writer.drain()

    app = Starlette(
        routes=[
            Route("/signin", signin_form, methods=["GET"]),
            Route("/signin", signin, methods=["POST"]),
            Route("/signout", signout, methods=["POST"]),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", _metrics),
            Route("/webhooks/hubspot", receive_hubspot, methods=["POST"]),
            Route("/webhooks/orders/{business}", receive_order, methods=["POST"]),
            Mount("/api/v1", app=BodyLimit(api)),
            # A query is small (the schema caps its tokens): a small body limit.
            Route(
                "/graphql", BodyLimit(GraphQLEndpoint(), limit=64 * 1024), methods=["GET", "POST"]
            ),
            *page_routes(),
        ],
        middleware=[Middleware(SecurityHeaders, hsts=settings.trust_proxy)],
        exception_handlers={BadRequest: _bad_request, HTTPException: _http_error},
        lifespan=lifespan,
    )
    app.state.inbox_writer = inbox_writer
    sessions = SessionStore(settings.session_lifetime_s, settings.monotonic)
    limiter = RateLimiter(
        settings.rate_limit_per_minute, settings.rate_limit_burst, settings.monotonic
    )
    # The mounted API is its own application: it shares the very same state.
    for state in (app.state, api.state):
        state.engine = engine
        state.settings = settings
        state.sessions = sessions
        state.rate_limiter = limiter
    return app
