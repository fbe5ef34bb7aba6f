"""Who is looking at a page, and who is pressing a button.

A page is read with the session cookie (or a bearer token); without one the browser is
sent to the sign-in form. A button is a form POST: the session cookie alone never acts
(a page elsewhere could make the browser send it), so every form also carries the
session's CSRF token, compared here in constant time, before the token's scope is checked.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from urllib.parse import parse_qs

from starlette.requests import Request

from masterops.db.api_tokens import TokenGrant
from masterops.web.auth import authenticate, forbidden, live_grant, require_scope, unauthorized
from masterops.web.responses import BadRequest, read_limited
from masterops.web.sessions import SESSION_COOKIE, SessionStore

MAX_FORM = 16 * 1024


class SignInFirst(Exception):
    """No usable credential: the page answers with a redirect to the sign-in form."""


@dataclass(frozen=True)
class Viewer:
    """The reader of a page: the token's grant, and the CSRF token its forms carry (None
    when the page was read with a bearer token: it shows no buttons then)."""

    grant: TokenGrant
    csrf: str | None

    def sees(self, business: str | None) -> bool:
        return self.grant.sees(business)

    @property
    def operates(self) -> bool:
        return self.csrf is not None and self.grant.allows("operate")


async def viewer(request: Request) -> Viewer:
    try:
        grant = await authenticate(request)
    except BadRequest as exc:
        if exc.status == 401:
            raise SignInFirst from None
        raise
    sessions: SessionStore = request.app.state.sessions
    session = sessions.get(request.cookies.get(SESSION_COOKIE))
    return Viewer(grant, session.csrf if session is not None else None)


async def read_form(request: Request) -> dict[str, str]:
    body = await read_limited(request, MAX_FORM)
    try:
        fields = parse_qs(body.decode(), max_num_fields=20, keep_blank_values=True)
    except (UnicodeDecodeError, ValueError):
        raise BadRequest("the form could not be read") from None
    values = {k: v[0] for k, v in fields.items()}
    if any("\x00" in v for v in values.values()):
        raise BadRequest("a form field must not contain a NUL character")
    return values


async def operator(request: Request, form: dict[str, str]) -> TokenGrant:
    """The grant behind a dashboard button: a live session whose CSRF token the form
    sent back, opened with a token of operate scope (counted against its rate)."""
    sessions: SessionStore = request.app.state.sessions
    session = sessions.get(request.cookies.get(SESSION_COOKIE))
    if session is None:
        raise unauthorized("missing_session", "sign in to the dashboard first")
    if not hmac.compare_digest(session.csrf.encode(), form.get("csrf", "").encode()):
        raise forbidden("csrf_failed", "the form expired or came from elsewhere; reload the page")
    grant = await live_grant(
        request, session.token_sha256, "the session's token was revoked or expired"
    )
    require_scope(grant, "operate")
    return grant
