"""The records of one object type in one portal, with the indexes requests rely on.

Lookups that HubSpot answers quickly must be cheap here too: by id (a dict), by a
unique property (a dict per unique property), list paging (a sorted id list) and
the incremental-sync search on the modification date (a sorted (ms, id) list).
Values sit in a per-record list indexed by the property's slot, grown only as far
as the highest slot written, so 100k contacts stay small.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable, Iterator
from typing import Any

from masterops_sandbox.hubspot.default_properties import COMPUTED_CREATED, COMPUTED_ID
from masterops_sandbox.hubspot.errors import HubSpotError
from masterops_sandbox.hubspot.objecttypes import ObjectType
from masterops_sandbox.hubspot.properties import PropertyDef, PropertyRegistry
from masterops_sandbox.hubspot.values import iso_ms

Change = tuple[PropertyDef, str | None]


class Record:
    """One CRM record. ``values[slot]`` holds each stored property as HubSpot's string."""

    __slots__ = ("archived_ms", "created_ms", "id", "updated_ms", "values")

    def __init__(self, record_id: int, values: list[str | None], created_ms: int) -> None:
        self.id = record_id
        self.values = values
        self.created_ms = created_ms
        self.updated_ms = created_ms
        self.archived_ms: int | None = None

    def get(self, definition: PropertyDef) -> str | None:
        """The property's value as a string, computed ones included; None when unset."""
        computed = definition.computed
        if computed is not None:
            if computed == COMPUTED_ID:
                return str(self.id)
            return iso_ms(self.created_ms if computed == COMPUTED_CREATED else self.updated_ms)
        slot = definition.slot
        return self.values[slot] if slot < len(self.values) else None

    def set(self, slot: int, value: str | None) -> None:
        values = self.values
        if slot >= len(values):
            if value is None:
                return
            values.extend([None] * (slot + 1 - len(values)))
        values[slot] = value


class ObjectStore:
    """Active and archived records of one type, with unique and ordering indexes."""

    def __init__(self, object_type: ObjectType, registry: PropertyRegistry, first_id: int) -> None:
        self.object_type = object_type
        self.registry = registry
        self._next_id = first_id
        self.active: dict[int, Record] = {}
        self.archived: dict[int, Record] = {}
        self.ids: list[int] = []  # active ids, ascending (ids only grow, so appends keep order)
        self.modified: list[tuple[int, int]] = []  # (updated_ms, id) of active records, ascending
        self._unique: dict[str, dict[str, int]] = {p.name: {} for p in registry.unique()}

    def __len__(self) -> int:
        return len(self.active)

    # --- reads -------------------------------------------------------------------------------

    def get(self, record_id: int, *, archived: bool = False) -> Record | None:
        return (self.archived if archived else self.active).get(record_id)

    def by_unique(self, name: str, value: str) -> Record | None:
        index = self._unique.get(name)
        if index is None:
            return None
        if name == "email":
            value = value.lower()
        found = index.get(value)
        return None if found is None else self.active.get(found)

    def lookup(self, key: str, id_property: str | None, portal_id: int) -> Record | None:
        """The active record an ``{id}`` path or batch input names, by id or ``idProperty``."""
        if id_property is None or id_property == "hs_object_id":
            return self.active.get(int(key)) if key.isdigit() else None
        self.registry.require_unique(id_property, portal_id)
        return self.by_unique(id_property, key)

    def page(self, after: int, limit: int) -> tuple[list[Record], int | None]:
        """Up to ``limit`` active records with ids >= ``after``, and the next cursor."""
        start = bisect_left(self.ids, after)
        chunk = self.ids[start : start + limit + 1]
        records = [self.active[i] for i in chunk[:limit]]
        return records, (chunk[limit] if len(chunk) > limit else None)

    def archived_page(self, after: int, limit: int) -> tuple[list[Record], int | None]:
        ids = sorted(i for i in self.archived if i >= after)
        records = [self.archived[i] for i in ids[:limit]]
        return records, (ids[limit] if len(ids) > limit else None)

    def __iter__(self) -> Iterator[Record]:
        return iter(self.active.values())

    # --- writes ------------------------------------------------------------------------------

    def add_unique_index(self, definition: PropertyDef) -> None:
        index: dict[str, int] = {}
        for record in self.active.values():
            value = record.get(definition)
            if value is not None:
                index[value] = record.id
        self._unique[definition.name] = index

    def check_unique(self, changes: Iterable[Change], record_id: int | None) -> None:
        """Refuse values another record already holds in a unique property."""
        for definition, value in changes:
            if value is None or not definition.has_unique_value:
                continue
            holder = self._unique.get(definition.name, {}).get(value)
            if holder is not None and holder != record_id:
                raise HubSpotError(
                    409,
                    "CONFLICT",
                    f"{self.object_type.singular.replace('_', ' ').capitalize()} already "
                    f"exists. Existing ID: {holder}",
                )

    def insert(self, changes: Iterable[Change], created_ms: int) -> Record:
        """A new active record; the caller has validated and checked uniqueness."""
        record = Record(self._next_id, [], created_ms)
        self._next_id += 1
        for definition, value in changes:
            record.set(definition.slot, value)
            if value is not None and definition.name in self._unique:
                self._unique[definition.name][value] = record.id
        self.active[record.id] = record
        self.ids.append(record.id)
        entry = (record.updated_ms, record.id)
        if not self.modified or self.modified[-1] <= entry:
            self.modified.append(entry)
        else:
            insort(self.modified, entry)
        return record

    def update(self, record: Record, changes: Iterable[Change], ms: int) -> list[Change]:
        """Apply changes; return those that changed a value. Touches the modified date."""
        changed: list[Change] = []
        for definition, value in changes:
            old = record.get(definition)
            if old == value:
                continue
            index = self._unique.get(definition.name)
            if index is not None:
                if old is not None and index.get(old) == record.id:
                    del index[old]
                if value is not None:
                    index[value] = record.id
            record.set(definition.slot, value)
            changed.append((definition, value))
        self._touch(record, ms)
        return changed

    def _touch(self, record: Record, ms: int) -> None:
        position = bisect_left(self.modified, (record.updated_ms, record.id))
        if position < len(self.modified) and self.modified[position] == (
            record.updated_ms,
            record.id,
        ):
            del self.modified[position]
        record.updated_ms = max(ms, record.created_ms)
        insort(self.modified, (record.updated_ms, record.id))

    def archive(self, record: Record, ms: int) -> None:
        del self.active[record.id]
        position = bisect_left(self.ids, record.id)
        del self.ids[position]
        position = bisect_left(self.modified, (record.updated_ms, record.id))
        if position < len(self.modified) and self.modified[position] == (
            record.updated_ms,
            record.id,
        ):
            del self.modified[position]
        for name, index in self._unique.items():
            definition = self.registry.get(name)
            value = None if definition is None else record.get(definition)
            if value is not None and index.get(value) == record.id:
                del index[value]
        record.archived_ms = ms
        self.archived[record.id] = record

    # --- snapshot (the state folder) ---------------------------------------------------------

    def to_state(self) -> dict[str, Any]:
        """Every record and the id counter as plain JSON data; indexes are rebuilt on load."""
        return {
            "next_id": self._next_id,
            "active": [_record_state(r) for r in self.active.values()],
            "archived": [_record_state(r) for r in self.archived.values()],
        }

    def load_state(self, state: dict[str, Any]) -> None:
        """Replace every record with those of ``to_state`` (the registry is loaded first)."""
        self._next_id = int(state["next_id"])
        self.active = {r.id: r for r in map(_record_from_state, state["active"])}
        self.archived = {r.id: r for r in map(_record_from_state, state["archived"])}
        self.ids = sorted(self.active)
        self.modified = sorted((r.updated_ms, r.id) for r in self.active.values())
        self._unique = {}
        for definition in self.registry.unique():
            self.add_unique_index(definition)

    # --- rendering ---------------------------------------------------------------------------

    def render(
        self,
        record: Record,
        definitions: Iterable[PropertyDef],
        *,
        associations: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The record as the API returns it, with the given properties (None when unset)."""
        body: dict[str, Any] = {
            "id": str(record.id),
            "properties": {d.name: record.get(d) for d in definitions},
            "createdAt": iso_ms(record.created_ms),
            "updatedAt": iso_ms(record.updated_ms),
            "archived": record.archived_ms is not None,
        }
        if record.archived_ms is not None:
            body["archivedAt"] = iso_ms(record.archived_ms)
        if associations:
            body["associations"] = associations
        return body


def _record_state(record: Record) -> list[Any]:
    return [record.id, record.values, record.created_ms, record.updated_ms, record.archived_ms]


def _record_from_state(row: list[Any]) -> Record:
    record_id, values, created_ms, updated_ms, archived_ms = row
    record = Record(int(record_id), list(values), int(created_ms))
    record.updated_ms = int(updated_ms)
    record.archived_ms = None if archived_ms is None else int(archived_ms)
    return record
