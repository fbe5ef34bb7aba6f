"""Request signing as Unleashed does it.

``api-auth-signature`` is base64(HMAC-SHA256(API key, query string without "?")),
and the empty string is signed when there is no query. The sandbox checks the
signature against the exact bytes of the query it received, so a client that
signs one encoding and sends another is refused, as the real service does.
"""

from __future__ import annotations

import base64
import hashlib
import hmac


def sign(api_key: str, query: bytes | str) -> str:
    """The signature of ``query`` (without the leading "?") under ``api_key``."""
    raw = query.encode() if isinstance(query, str) else query
    digest = hmac.new(api_key.encode(), raw, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def verify(api_key: str, query: bytes, signature: str) -> bool:
    """Whether ``signature`` signs exactly these query bytes; constant-time."""
    return hmac.compare_digest(sign(api_key, query), signature.strip())
