"""Custom association labels (``/crm/v4/associations/{from}/{to}/labels``).

A label is a ``USER_DEFINED`` association type for one pair of object types; HubSpot
makes a type for each direction, so a label always has an inverse type (its
``inverseLabel``, or the same label when none is given). Type ids are numbered from
this portal's own counter; the HubSpot-defined types are in ``associations.py``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from masterops_sandbox.hubspot.errors import HubSpotError, validation_error

USER_DEFINED = "USER_DEFINED"
FIRST_TYPE_ID = 100  # HubSpot numbers user-defined types above its own
_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


@dataclass
class Label:
    type_id: int
    from_type: str
    to_type: str
    name: str
    label: str
    inverse: int

    def to_json(self) -> dict[str, Any]:
        return {"category": USER_DEFINED, "typeId": self.type_id, "label": self.label}


class AssociationLabels:
    """The user-defined association types of one portal, by type id."""

    def __init__(self) -> None:
        self._by_id: dict[int, Label] = {}
        self._next_id = FIRST_TYPE_ID

    def get(self, type_id: int) -> Label | None:
        return self._by_id.get(type_id)

    def for_pair(self, from_type: str, to_type: str) -> list[Label]:
        return [
            lb for lb in self._by_id.values() if (lb.from_type, lb.to_type) == (from_type, to_type)
        ]

    def create(self, from_type: str, to_type: str, body: Mapping[str, Any]) -> list[Label]:
        """Both directions of a new label: [from->to, to->from]."""
        label, name = body.get("label"), body.get("name")
        inverse_label = body.get("inverseLabel")
        if not isinstance(label, str) or not label.strip():
            raise validation_error("label is required.")
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise validation_error(
                f"name {name!r} is invalid: use letters, digits and underscores, starting "
                "with a letter."
            )
        if inverse_label is not None and (
            not isinstance(inverse_label, str) or not inverse_label.strip()
        ):
            raise validation_error("inverseLabel must be a non-empty string when given.")
        if any(lb.name == name for lb in self.for_pair(from_type, to_type)):
            raise HubSpotError(
                409, "CONFLICT", f"An association label named {name} already exists."
            )
        forward_id, backward_id = self._next_id, self._next_id + 1
        self._next_id += 2
        forward = Label(forward_id, from_type, to_type, name, label, backward_id)
        backward = Label(backward_id, to_type, from_type, name, inverse_label or label, forward_id)
        self._by_id[forward_id] = forward
        self._by_id[backward_id] = backward
        return [forward, backward]

    def require(self, from_type: str, to_type: str, type_id: Any) -> Label:
        found = self._by_id.get(type_id) if isinstance(type_id, int) else None
        if found is None or (found.from_type, found.to_type) != (from_type, to_type):
            raise HubSpotError(
                404,
                "OBJECT_NOT_FOUND",
                f"No association label with type id {type_id} from {from_type} to {to_type}",
            )
        return found

    def update(self, from_type: str, to_type: str, body: Mapping[str, Any]) -> None:
        """Rename a label (``PUT``): ``associationTypeId`` and ``label`` are required."""
        found = self.require(from_type, to_type, body.get("associationTypeId"))
        label = body.get("label")
        if not isinstance(label, str) or not label.strip():
            raise validation_error("label is required.")
        found.label = label
        inverse_label = body.get("inverseLabel")
        if isinstance(inverse_label, str) and inverse_label.strip():
            self._by_id[found.inverse].label = inverse_label

    def delete(self, from_type: str, to_type: str, type_id: int) -> Label:
        """Drop a label and its inverse; returns the label removed."""
        found = self.require(from_type, to_type, type_id)
        del self._by_id[found.type_id]
        self._by_id.pop(found.inverse, None)
        return found

    def to_state(self) -> dict[str, Any]:
        return {"next_id": self._next_id, "labels": [asdict(lb) for lb in self._by_id.values()]}

    def load_state(self, state: Mapping[str, Any]) -> None:
        self._next_id = int(state["next_id"])
        self._by_id = {int(row["type_id"]): Label(**row) for row in state["labels"]}
