"""NUL characters in received JSON: neither PostgreSQL's text nor its jsonb can hold one."""

from __future__ import annotations

from typing import Any

REPLACEMENT = "\ufffd"
NUL_REASON = (
    "the event holds a NUL character (\\u0000), which the database cannot store; it was "
    "kept with each NUL replaced by U+FFFD and is not processed"
)


def without_nul(value: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """``value`` with every NUL in its keys and strings replaced, and whether there was one.

    Iterative, not recursive: a payload nested as deep as the JSON parser allows must not
    exhaust the interpreter's stack here.
    """
    root: dict[str, Any] = {}
    found = False
    stack: list[tuple[Any, Any]] = [(value, root)]
    while stack:
        source, target = stack.pop()
        items = source.items() if isinstance(source, dict) else enumerate(source)
        for key, item in items:
            if isinstance(key, str) and "\x00" in key:
                key, found = key.replace("\x00", REPLACEMENT), True
            if isinstance(item, str) and "\x00" in item:
                item, found = item.replace("\x00", REPLACEMENT), True
            elif isinstance(item, dict | list):
                child: Any = {} if isinstance(item, dict) else [None] * len(item)
                stack.append((item, child))
                item = child
            target[key] = item
    return root, found
