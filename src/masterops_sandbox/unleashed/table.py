"""A table of records by Guid, with sorted views cached until the next change.

Lists are served from these views: an unfiltered page is a slice of a cached
list, so it costs the page, not the table. Any change drops every view of the
table; the next list request sorts again, once.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from typing import Generic, TypeVar

R = TypeVar("R")


class Table(Generic[R]):
    """Records of one kind by Guid (lower case, as Unleashed Guids match in any case)."""

    def __init__(self) -> None:
        self.by_guid: dict[str, R] = {}
        self._views: dict[Hashable, list[R]] = {}

    def __len__(self) -> int:
        return len(self.by_guid)

    def __iter__(self) -> Iterator[R]:
        return iter(self.by_guid.values())

    def get(self, guid: str) -> R | None:
        return self.by_guid.get(guid.lower())

    def put(self, guid: str, record: R) -> None:
        self.by_guid[guid.lower()] = record
        self._views.clear()

    def changed(self) -> None:
        self._views.clear()

    def view(self, key: Hashable, build: Callable[[Iterator[R]], list[R]]) -> list[R]:
        """The list ``build`` makes from all records, built once per table state."""
        cached = self._views.get(key)
        if cached is None:
            cached = self._views[key] = build(iter(self))
        return cached
