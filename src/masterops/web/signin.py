"""Signing in to the dashboard with an API token, and out again.

``GET /signin`` shows a form whose CSRF token is also in a cookie (double submit: a page
elsewhere can neither read the cookie nor set the field). ``POST /signin`` checks both
and the API token, then opens a session: an HTTP-only, SameSite=Strict cookie holding a
random id. ``POST /signout`` must carry the session's own CSRF token.
"""

from __future__ import annotations

import hmac
import secrets
from html import escape
from urllib.parse import parse_qs

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from masterops.db.api_tokens import digest, grant_by_digest
from masterops.web.ratelimit import RateLimiter
from masterops.web.responses import BadRequest, error, read_limited
from masterops.web.sessions import SESSION_COOKIE, SessionStore

CSRF_COOKIE = "mo_csrf"
MAX_FORM = 4096


def _secure(request: Request) -> bool:
    if request.app.state.settings.trust_proxy:
        proto = request.headers.get("x-forwarded-proto", "").split(",")[0].strip()
        if proto:
            return proto == "https"
    return request.url.scheme == "https"


def _page(csrf: str, problem: str | None = None) -> str:
    note = f'<p role="alert">{escape(problem)}</p>' if problem else ""
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">'
        '<link rel="stylesheet" href="/static/app.css">'
        '<title>Master-Ops: sign in</title></head><body><main class="signin"><h1>Master-Ops</h1>'
        f'{note}<form method="post" action="/signin">'
        f'<input type="hidden" name="csrf" value="{escape(csrf)}">'
        '<label>API token <input type="password" name="token" autocomplete="off" required>'
        '</label> <button type="submit">Sign in</button></form>'
        '<p class="muted">Create a token with '
        "<code>ops tokens create --name NAME --scope read</code>.</p>"
        "</main></body></html>"
    )


def _form_page(request: Request, problem: str | None = None, status: int = 200) -> Response:
    csrf = secrets.token_urlsafe(32)
    page = HTMLResponse(_page(csrf, problem), status_code=status)
    page.set_cookie(
        CSRF_COOKIE,
        csrf,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path="/signin",
    )
    return page


async def _form(request: Request) -> dict[str, str]:
    body = await read_limited(request, MAX_FORM)
    try:
        fields = parse_qs(body.decode(), max_num_fields=10)
    except (UnicodeDecodeError, ValueError):
        raise BadRequest("the form could not be read") from None
    return {k: v[0] for k, v in fields.items()}


async def signin_form(request: Request) -> Response:
    return _form_page(request)


async def signin(request: Request) -> Response:
    limiter: RateLimiter = request.app.state.rate_limiter
    client = request.client.host if request.client else "unknown"
    wait = limiter.take(f"signin:{client}")
    if wait is not None:
        return error(
            429, "rate_limited", f"too many sign-ins; retry in {wait} s", {"Retry-After": str(wait)}
        )
    form = await _form(request)
    cookie = request.cookies.get(CSRF_COOKIE, "")
    sent = form.get("csrf", "")
    if not cookie or not hmac.compare_digest(cookie.encode(), sent.encode()):
        return error(403, "csrf_failed", "the sign-in form expired or came from elsewhere")
    token_sha256 = digest(form.get("token", "").strip())

    def lookup() -> bool:
        with request.app.state.engine.connect() as conn:
            return grant_by_digest(conn, token_sha256) is not None

    if not await run_in_threadpool(lookup):
        return _form_page(request, "That token is unknown, revoked or expired.", status=401)
    sessions: SessionStore = request.app.state.sessions
    session_id = sessions.open(token_sha256)
    answer = RedirectResponse("/", status_code=303)
    answer.set_cookie(
        SESSION_COOKIE,
        session_id,
        max_age=sessions.lifetime_s,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path="/",
    )
    answer.delete_cookie(CSRF_COOKIE, path="/signin")
    return answer


async def signout(request: Request) -> Response:
    sessions: SessionStore = request.app.state.sessions
    session_id = request.cookies.get(SESSION_COOKIE)
    session = sessions.get(session_id)
    form = await _form(request)
    if session is None or not hmac.compare_digest(
        session.csrf.encode(), form.get("csrf", "").encode()
    ):
        return error(403, "csrf_failed", "sign out from the dashboard's own button")
    sessions.close(session_id)
    answer = RedirectResponse("/signin", status_code=303)
    answer.delete_cookie(SESSION_COOKIE, path="/")
    return answer
