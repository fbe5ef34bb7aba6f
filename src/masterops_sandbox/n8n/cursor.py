"""n8n's paging cursors: base64 of a small JSON object, exactly as the real server makes them.

Workflows and tags page by offset (``{"limit": 100, "offset": 100}``); executions page
by the last id seen (``{"lastId": "412", "limit": 100}``). The real server decodes
leniently (Node's base64 decoder skips characters it does not know) and only
rejects a cursor whose JSON does not parse or is not an object; so do we.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

INVALID_CURSOR = "An invalid cursor was provided"
_NOT_BASE64 = re.compile(r"[^A-Za-z0-9+/]")


class InvalidCursor(ValueError):
    """The cursor is not base64 JSON of an object."""


def _encode(payload: dict[str, Any]) -> str:
    # Compact separators, like JSON.stringify, so cursors match the real ones byte for byte.
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.b64encode(raw).decode()


def encode_offset_cursor(*, offset: int, limit: int, total: int) -> str | None:
    """The next page's cursor for offset paging, or None when this page is the last."""
    if total > offset + limit:
        return _encode({"limit": limit, "offset": offset + limit})
    return None


def encode_last_id_cursor(*, last_id: str, limit: int, more: bool) -> str | None:
    """The next page's cursor for id paging, or None when nothing follows."""
    if more:
        return _encode({"lastId": last_id, "limit": limit})
    return None


def decode_cursor(cursor: str) -> dict[str, Any]:
    """The cursor's JSON object; ``InvalidCursor`` if it is not one."""
    cleaned = _NOT_BASE64.sub("", cursor.replace("-", "+").replace("_", "/"))
    cleaned += "=" * (-len(cleaned) % 4)
    try:
        payload = json.loads(base64.b64decode(cleaned).decode("utf-8"))
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise InvalidCursor(INVALID_CURSOR) from exc
    # Node evaluates `'offset' in payload`, which throws for anything but an object or array.
    if isinstance(payload, list):
        return {}
    if not isinstance(payload, dict):
        raise InvalidCursor(INVALID_CURSOR)
    return payload
