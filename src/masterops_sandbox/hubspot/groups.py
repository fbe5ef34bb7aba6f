"""Property groups of one object type: ``/crm/v3/properties/{objectType}/groups``.

Every type starts with HubSpot's information group (``contactinformation``, ...)
that its own properties belong to. A property can only be created in, or moved to,
a group that exists; a group that still holds live properties cannot be archived
(HubSpot's exact wording is unverified).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from masterops_sandbox.hubspot.errors import HubSpotError, validation_error

_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_LABELS = {
    "contactinformation": "Contact information",
    "companyinformation": "Company information",
    "dealinformation": "Deal information",
    "productinformation": "Product information",
    "lineiteminformation": "Line item information",
}


@dataclass
class PropertyGroup:
    name: str
    label: str
    display_order: int
    archived: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "displayOrder": self.display_order,
            "archived": self.archived,
        }


class PropertyGroups:
    """The groups of one object type, by name."""

    def __init__(self, type_id: str, default_group: str) -> None:
        self.type_id = type_id
        label = _LABELS.get(default_group, default_group)
        self._by_name: dict[str, PropertyGroup] = {
            default_group: PropertyGroup(default_group, label, -1)
        }

    def all(self) -> list[PropertyGroup]:
        return [g for g in self._by_name.values() if not g.archived]

    def exists(self, name: str) -> bool:
        group = self._by_name.get(name)
        return group is not None and not group.archived

    def get(self, name: str) -> PropertyGroup:
        group = self._by_name.get(name)
        if group is None or group.archived:
            raise HubSpotError(
                404,
                "OBJECT_NOT_FOUND",
                f"Unable to find property group {name} for object type {self.type_id}",
            )
        return group

    def require(self, name: str) -> None:
        """A property's ``groupName`` must name a live group."""
        if not self.exists(name):
            raise validation_error(f"Property group {name} does not exist.")

    def create(self, body: Mapping[str, Any]) -> PropertyGroup:
        name, label = body.get("name"), body.get("label")
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise validation_error(
                f"Property group name {name!r} is invalid: use lower-case letters, digits and "
                "underscores, starting with a letter."
            )
        if not isinstance(label, str) or not label.strip():
            raise validation_error("Property group label is required.")
        if name in self._by_name:
            raise HubSpotError(
                409, "OBJECT_ALREADY_EXISTS", f"Property group named '{name}' already exists."
            )
        order = body.get("displayOrder", -1)
        if not isinstance(order, int) or isinstance(order, bool):
            raise validation_error("displayOrder must be an integer.")
        group = PropertyGroup(name, label, order)
        self._by_name[name] = group
        return group

    def update(self, name: str, body: Mapping[str, Any]) -> PropertyGroup:
        group = self.get(name)
        if "label" in body:
            label = body["label"]
            if not isinstance(label, str) or not label.strip():
                raise validation_error("Property group label must be a non-empty string.")
            group.label = label
        if "displayOrder" in body:
            order = body["displayOrder"]
            if not isinstance(order, int) or isinstance(order, bool):
                raise validation_error("displayOrder must be an integer.")
            group.display_order = order
        return group

    def archive(self, name: str, members: int) -> None:
        group = self.get(name)
        if members:
            raise validation_error(
                f"Property group {name} still holds {members} properties; "
                "move or archive them first."
            )
        group.archived = True

    def to_state(self) -> list[dict[str, Any]]:
        return [asdict(g) for g in self._by_name.values()]

    def load_state(self, state: list[dict[str, Any]]) -> None:
        self._by_name = {row["name"]: PropertyGroup(**row) for row in state}
