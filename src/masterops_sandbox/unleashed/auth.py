"""Authentication and the monthly quota, in front of every Unleashed route.

An ASGI middleware: it finds the account by ``api-auth-id``, checks
``api-auth-signature`` against the exact query bytes received
(``scope["query_string"]``), counts the call against the account's monthly
quota, and hands the request on with the account in
``scope["unleashed.account"]``. Refusals:

- 403 ``{"description": ...}`` when either header is missing, the id is
  unknown, or the signature does not match (e.g. the client signed a
  differently encoded query);
- the quota's blocked status (429 by default) once the month's calls are used.

``client-type`` is accepted and not required, as at Unleashed. The scope dict is
passed on as is (not copied), so the harness still sees the matched route.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from masterops_sandbox.unleashed.errors import refuse
from masterops_sandbox.unleashed.quota import (
    RESET_HEADER,
    WARNING_HEADER,
    QuotaMeter,
    QuotaSwitches,
)
from masterops_sandbox.unleashed.signature import verify
from masterops_sandbox.unleashed.store import BusinessStore

ACCOUNT_SCOPE_KEY = "unleashed.account"


@dataclass(frozen=True, slots=True)
class Account:
    """One business's API credentials, data and quota."""

    business: str
    api_id: str
    api_key: str
    store: BusinessStore
    quota: QuotaMeter


class UnleashedAuth:
    """ASGI middleware: signature check, then quota, then the app."""

    def __init__(
        self, app: ASGIApp, *, accounts: Mapping[str, Account], switches: QuotaSwitches
    ) -> None:
        self.app = app
        self._accounts = accounts  # by API id
        self._switches = switches

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        api_id = signature = None
        for name, value in scope["headers"]:
            if name == b"api-auth-id":
                api_id = value.decode("latin-1").strip()
            elif name == b"api-auth-signature":
                signature = value.decode("latin-1")
        if not api_id or not signature:
            await refuse(send, 403, "The api-auth-id and api-auth-signature headers are required")
            return
        account = self._accounts.get(api_id)
        if account is None:
            await refuse(send, 403, "The api-auth-id is not a known API id")
            return
        if not verify(account.api_key, scope["query_string"], signature):
            await refuse(
                send,
                403,
                "The api-auth-signature does not match the query string: sign the exact "
                "query string sent, without the leading '?'",
            )
            return
        decision = account.quota.admit()
        if not decision.allowed:
            resets = decision.resets_at.strftime("%Y-%m-%dT%H:%M:%SZ")
            await refuse(
                send,
                self._switches.blocked_status,
                f"The monthly API call quota of this account is exhausted; calls are "
                f"blocked until {resets}",
                [(RESET_HEADER.encode(), resets.encode())],
            )
            return
        scope[ACCOUNT_SCOPE_KEY] = account
        if decision.warning is None:
            await self.app(scope, receive, send)
            return
        warning = (WARNING_HEADER.encode(), str(decision.warning).encode())

        async def send_with_warning(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), warning]
            await send(message)

        await self.app(scope, receive, send_with_warning)
