"""Property definitions of one object type in one portal, and value validation.

Each stored property owns a slot in every record's value list, so records stay
compact (a list, not a dict per record). Writes go through ``normalize``, which
rejects unknown and read-only names and malformed values with HubSpot's
"Property values were not valid: [...]" message.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

from masterops_sandbox.hubspot.default_properties import (
    DEFAULT_PROPERTIES,
    FIELD_TYPES,
    GROUP_NAMES,
    PropertySpec,
)
from masterops_sandbox.hubspot.errors import HubSpotError, validation_error
from masterops_sandbox.hubspot.groups import PropertyGroups
from masterops_sandbox.hubspot.objecttypes import ObjectType
from masterops_sandbox.hubspot.property_edits import edited, option_labels
from masterops_sandbox.hubspot.values import is_midnight, iso_date, iso_ms, parse_number, parse_time

_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class PropertyDef:
    """One property as ``GET /crm/v3/properties/{type}/{name}`` describes it."""

    name: str
    label: str
    type: str
    field_type: str
    group_name: str
    description: str
    options: tuple[tuple[str, str], ...]  # (label, value)
    has_unique_value: bool
    computed: str | None  # which record field a computed property reads; None when stored
    hubspot_defined: bool
    display_order: int
    slot: int  # index into Record.values; -1 for computed properties
    created_ms: int
    updated_ms: int | None = None  # None until the definition is changed
    archived: bool = False

    @property
    def read_only(self) -> bool:
        return self.computed is not None

    @property
    def option_values(self) -> frozenset[str]:
        return frozenset(value for _, value in self.options)

    def to_json(self) -> dict[str, Any]:
        stamp = iso_ms(self.created_ms)
        return {
            "updatedAt": iso_ms(self.updated_ms) if self.updated_ms is not None else stamp,
            "createdAt": stamp,
            "name": self.name,
            "label": self.label,
            "type": self.type,
            "fieldType": self.field_type,
            "description": self.description,
            "groupName": self.group_name,
            "options": [
                {"label": label, "value": value, "displayOrder": index, "hidden": False}
                for index, (label, value) in enumerate(self.options)
            ],
            "displayOrder": self.display_order,
            "calculated": self.computed is not None,
            "externalOptions": False,
            "hasUniqueValue": self.has_unique_value,
            "hidden": False,
            "hubspotDefined": self.hubspot_defined,
            "modificationMetadata": {
                "archivable": not self.hubspot_defined,
                "readOnlyDefinition": self.hubspot_defined,
                "readOnlyValue": self.read_only,
            },
            "formField": not self.read_only,
            "dataSensitivity": "non_sensitive",
            "archived": self.archived,
        }


def _invalid(name: str, code: str, message: str) -> dict[str, Any]:
    return {
        "isValid": False,
        "message": message,
        "error": code,
        "name": name,
        "localizedErrorMessage": message,
    }


class PropertyRegistry:
    """The properties of one object type in one portal."""

    def __init__(self, object_type: ObjectType, created_ms: int) -> None:
        self.object_type = object_type
        self.groups = PropertyGroups(object_type.type_id, GROUP_NAMES[object_type.name])
        self._by_name: dict[str, PropertyDef] = {}
        self._archived: dict[str, PropertyDef] = {}
        self.slot_count = 0
        self._lowercase = {"email"} if object_type.name == "contacts" else set()
        for spec in DEFAULT_PROPERTIES[object_type.name]:
            self._add(spec, hubspot_defined=True, created_ms=created_ms)

    def _add(
        self,
        spec: PropertySpec,
        *,
        hubspot_defined: bool,
        created_ms: int,
        group_name: str | None = None,
        description: str = "",
        option_labels: Mapping[str, str] | None = None,
    ) -> PropertyDef:
        slot = -1
        if spec.computed is None:
            slot = self.slot_count
            self.slot_count += 1
        labels = option_labels or {}
        definition = PropertyDef(
            name=spec.name,
            label=spec.label,
            type=spec.type,
            field_type=spec.field_type,
            group_name=group_name or GROUP_NAMES[self.object_type.name],
            description=description,
            options=tuple((labels.get(value, value), value) for value in spec.options),
            has_unique_value=spec.has_unique_value,
            computed=spec.computed,
            hubspot_defined=hubspot_defined,
            display_order=len(self._by_name),
            slot=slot,
            created_ms=created_ms,
        )
        self._by_name[spec.name] = definition
        return definition

    def get(self, name: str) -> PropertyDef | None:
        return self._by_name.get(name)

    def all(self) -> list[PropertyDef]:
        return list(self._by_name.values())

    def archived(self) -> list[PropertyDef]:
        return list(self._archived.values())

    def in_group(self, group_name: str) -> int:
        return sum(1 for d in self._by_name.values() if d.group_name == group_name)

    def set_options(self, name: str, options: Iterable[tuple[str, str]]) -> None:
        """Replace a HubSpot-defined enumeration's (label, value) options: the owners of
        ``hubspot_owner_id``, the pipelines and stages of ``pipeline`` and ``dealstage``."""
        definition = self._by_name.get(name)
        if definition is not None:
            self._by_name[name] = replace(definition, options=tuple(options))

    def require(self, name: str) -> PropertyDef:
        definition = self._by_name.get(name)
        if definition is None:
            raise HubSpotError(
                404,
                "OBJECT_NOT_FOUND",
                f"Unable to find property {name} for object type {self.object_type.type_id}",
            )
        return definition

    def update(self, name: str, body: Mapping[str, Any], ms: int) -> PropertyDef:
        """Change a custom property's definition (``PATCH``); HubSpot's own are read-only."""
        changed = edited(self.require(name), body, self.groups, ms)
        self._by_name[name] = changed
        return changed

    def archive(self, name: str, ms: int) -> None:
        """Archive a custom property (``DELETE``): it leaves reads and writes; its name stays
        taken. HubSpot's own properties cannot be archived."""
        current = self.require(name)
        if current.hubspot_defined:
            raise validation_error(f"{name} is a HubSpot-defined property and cannot be archived.")
        del self._by_name[name]
        self._archived[name] = replace(current, archived=True, updated_ms=ms)

    def unique(self) -> list[PropertyDef]:
        return [p for p in self._by_name.values() if p.has_unique_value]

    def require_unique(self, name: str, portal_id: int) -> PropertyDef:
        """The property named as an ``idProperty``; it must exist and hold unique values."""
        definition = self._by_name.get(name)
        if definition is None or not definition.has_unique_value:
            raise validation_error(
                f"Unable to perform update/upsert by non-unique {self.object_type.type_id} "
                f"property {name} in portal ID {portal_id}"
            )
        return definition

    def create(self, body: Mapping[str, Any], created_ms: int) -> PropertyDef:
        """A custom property from a ``POST /crm/v3/properties/{type}`` body."""
        name = body.get("name")
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise validation_error(
                f"Property name {name!r} is invalid: use lower-case letters, digits and "
                "underscores, starting with a letter."
            )
        if name in self._by_name or name in self._archived:
            raise HubSpotError(
                409, "OBJECT_ALREADY_EXISTS", f"Property named '{name}' already exists."
            )
        kind = body.get("type")
        field_type = body.get("fieldType")
        if kind not in FIELD_TYPES:
            raise validation_error(f"Invalid property type: {kind!r}")
        if field_type not in FIELD_TYPES[kind]:
            raise validation_error(f"fieldType {field_type!r} is not valid for type {kind!r}")
        for key in ("label", "groupName"):
            if not isinstance(body.get(key), str) or not body[key]:
                raise validation_error(f"Property {key} is required.")
        self.groups.require(body["groupName"])
        labels = option_labels(body.get("options") or [])
        if kind == "bool" and not labels:
            labels = {"true": "Yes", "false": "No"}
        if kind == "enumeration" and not labels:
            raise validation_error("Enumeration properties need at least one option.")
        spec = PropertySpec(
            name=name,
            label=body["label"],
            type=kind,
            field_type=field_type,
            options=tuple(labels),
            has_unique_value=bool(body.get("hasUniqueValue", False)),
        )
        return self._add(
            spec,
            hubspot_defined=False,
            created_ms=created_ms,
            group_name=body["groupName"],
            description=str(body.get("description", "")),
            option_labels=labels,
        )

    def normalize(self, properties: Any) -> list[tuple[PropertyDef, str | None]]:
        """Validate a write's ``properties`` and return each value in stored form.

        ``""`` and ``null`` clear a value (``None``). Raises HubSpot's 400 listing
        every invalid property."""
        if properties is None:
            return []
        if not isinstance(properties, dict):
            raise validation_error("Invalid input JSON: properties must be an object")
        changes: list[tuple[PropertyDef, str | None]] = []
        invalid: list[dict[str, Any]] = []
        for name, raw in properties.items():
            definition = self._by_name.get(name)
            if definition is None:
                message = f'Property "{name}" does not exist'
                invalid.append(_invalid(name, "PROPERTY_DOESNT_EXIST", message))
                continue
            if definition.read_only:
                message = f"{name} is a read only property; its value cannot be set."
                invalid.append(_invalid(name, "READ_ONLY_VALUE", message))
                continue
            text, problem = self._coerce(definition, raw)
            if problem is not None:
                invalid.append(_invalid(name, problem[0], problem[1]))
                continue
            changes.append((definition, text))
        if invalid:
            raise validation_error("Property values were not valid: " + json.dumps(invalid))
        return changes

    def _coerce(
        self, definition: PropertyDef, raw: Any
    ) -> tuple[str | None, tuple[str, str] | None]:
        """The stored form of one value, or an (error code, message) problem."""
        if raw is None:
            return None, None
        if isinstance(raw, bool):
            text = "true" if raw else "false"
        elif isinstance(raw, int | float):
            text = repr(raw) if isinstance(raw, float) else str(raw)
        elif isinstance(raw, str):
            text = raw
        else:
            return None, ("INVALID_INPUT", f"{raw!r} is not a valid property value.")
        if text == "":
            return None, None
        kind = definition.type
        if kind == "number":
            if parse_number(text) is None:
                return None, ("INVALID_DECIMAL", f"{text} was not a valid number.")
        elif kind in ("datetime", "date"):
            ms = parse_time(text)
            if ms is None:
                return None, ("INVALID_DATE", f"{text} was not a valid date.")
            if kind == "date":
                if not is_midnight(ms):
                    return None, ("INVALID_DATE", f"{text} is not midnight UTC.")
                return iso_date(ms), None
            return iso_ms(ms), None
        elif kind == "bool":
            if text.lower() not in ("true", "false"):
                return None, ("INVALID_BOOLEAN", f"{text} was not a valid boolean.")
            return text.lower(), None
        elif kind == "enumeration":
            allowed = definition.option_values
            chosen = text.split(";") if definition.field_type == "checkbox" else [text]
            if any(choice not in allowed for choice in chosen):
                return None, (
                    "INVALID_OPTION",
                    f"{text} was not one of the allowed options: [{', '.join(sorted(allowed))}]",
                )
        if definition.name in self._lowercase:
            text = text.lower()
            if not _EMAIL_RE.match(text):
                return None, ("INVALID_EMAIL", f"Email address {text} is invalid")
        return text, None

    def names(self, requested: Iterable[str]) -> list[PropertyDef]:
        """The known properties among ``requested``; HubSpot ignores unknown names on reads."""
        found: list[PropertyDef] = []
        for name in requested:
            definition = self._by_name.get(name)
            if definition is not None:
                found.append(definition)
        return found

    # --- snapshot (the state folder) ---------------------------------------------------------

    def to_state(self) -> dict[str, Any]:
        """HubSpot's own definitions come from the code (only their creation time is kept);
        custom ones are kept whole, in the order they were made."""
        defaults = [d for d in self._by_name.values() if d.hubspot_defined]
        return {
            "created_ms": defaults[0].created_ms if defaults else None,
            "custom": [asdict(d) for d in self._by_name.values() if not d.hubspot_defined],
            "archived": [asdict(d) for d in self._archived.values()],
            "groups": self.groups.to_state(),
        }

    def load_state(self, state: dict[str, Any]) -> None:
        created_ms = state["created_ms"]
        by_name: dict[str, PropertyDef] = {}
        for definition in self._by_name.values():
            if definition.hubspot_defined:
                by_name[definition.name] = (
                    definition if created_ms is None else replace(definition, created_ms=created_ms)
                )
        for row in state["custom"]:
            by_name[row["name"]] = _definition(row)
        self._by_name = by_name
        self._archived = {row["name"]: _definition(row) for row in state["archived"]}
        self.groups.load_state(state["groups"])
        # Archived properties keep their slots: a new property must not read their values.
        every = [*by_name.values(), *self._archived.values()]
        self.slot_count = max((d.slot + 1 for d in every), default=0)


def _definition(row: dict[str, Any]) -> PropertyDef:
    options = tuple((str(label), str(value)) for label, value in row["options"])
    return PropertyDef(**{**row, "options": options})
