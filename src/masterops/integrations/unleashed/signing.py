"""Request signing for the Unleashed API.

``api-auth-signature`` is base64(HMAC-SHA256(API key, query string without "?")); with no
query the empty string is signed. The service checks the signature against the query bytes
it receives, so signing any other rendering of the same parameters (``%20`` against ``+``,
another order) is refused with 403.

That is why the signature is made in ``httpx.Auth.auth_flow``: httpx hands the flow the
final request on every attempt, and ``request.url.query`` there is exactly the byte string
that goes on the wire. The parameters are encoded once, by httpx, and the signature is
taken from that one encoding rather than from a second one built beside it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Generator

import httpx

ID_HEADER = "api-auth-id"
SIGNATURE_HEADER = "api-auth-signature"


def sign(api_key: str | bytes, query: str | bytes) -> str:
    """The signature of ``query`` (without the leading "?") under ``api_key``."""
    key = api_key.encode() if isinstance(api_key, str) else api_key
    raw = query.encode() if isinstance(query, str) else query
    return base64.b64encode(hmac.new(key, raw, hashlib.sha256).digest()).decode("ascii")


class UnleashedSigner(httpx.Auth):
    """Adds ``api-auth-id`` and the signature of the request's own query bytes.

    The key stays in this object (and out of its ``repr``); only the signature, which is
    useless for any other query, leaves it.
    """

    requires_request_body = False
    requires_response_body = False

    def __init__(self, api_id: str, api_key: str) -> None:
        if not api_id.strip():
            raise ValueError("the Unleashed API id is empty")
        if not api_key:
            raise ValueError("the Unleashed API key is empty")
        self.api_id = api_id.strip()
        self._key = api_key.encode()

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers[ID_HEADER] = self.api_id
        request.headers[SIGNATURE_HEADER] = sign(self._key, request.url.query)
        yield request

    def __repr__(self) -> str:
        return f"UnleashedSigner(api_id={self.api_id!r})"
