"""Which properties an answer carries, and the batch envelope.

With no ``properties`` named a record comes back with its type's default set;
with some named, with those (unknown names ignored) plus ``hs_object_id``,
``createdate`` and the modification date, which HubSpot always includes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from masterops_sandbox.hubspot.properties import PropertyDef
from masterops_sandbox.hubspot.store import ObjectStore

_ALWAYS = ("hs_object_id", "createdate", "lastmodifieddate", "hs_lastmodifieddate")


def split_names(values: Iterable[str]) -> list[str]:
    """Property names from query parameters that may repeat and may hold commas."""
    names: list[str] = []
    for value in values:
        names.extend(n.strip() for n in value.split(",") if n.strip())
    return names


def property_set(store: ObjectStore, names: Iterable[str] | None) -> list[PropertyDef]:
    registry = store.registry
    chosen = list(names or ())
    if not chosen:
        return registry.names(store.object_type.default_properties)
    seen = dict.fromkeys([*chosen, *_ALWAYS])
    return registry.names(seen)


def with_written(
    store: ObjectStore, written: Iterable[str], base: list[PropertyDef] | None = None
) -> list[PropertyDef]:
    """The default set plus the properties a write named: what create/update return."""
    defaults = base if base is not None else property_set(store, None)
    names = dict.fromkeys([*(d.name for d in defaults), *written])
    return store.registry.names(names)


def error_items(errors: dict[tuple[int, str, str], list[str]]) -> list[dict[str, Any]]:
    """Batch error items grouped by (status, category, message), each with its ids.

    Items are HubSpot's ``StandardError``: ``errors`` and ``links`` are always present
    (empty here), as its API description requires."""
    return [
        {
            "status": "error",
            "category": category,
            "message": message,
            "context": {"ids": ids},
            "errors": [],
            "links": {},
        }
        for (_, category, message), ids in errors.items()
    ]


def envelope(
    results: list[dict[str, Any]], errors: list[dict[str, Any]], started: str, completed: str
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "status": "COMPLETE",
        "results": results,
        "startedAt": started,
        "completedAt": completed,
    }
    if errors:
        body["errors"] = errors
        body["numErrors"] = len(errors)
    return body
