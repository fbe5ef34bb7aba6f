"""A custom property's definition changed by ``PATCH /crm/v3/properties/{type}/{name}``.

Only the fields HubSpot's ``PropertyUpdate`` carries may change (not the name, not
``hasUniqueValue``); HubSpot's own properties are read-only definitions. Values
already stored are kept, as HubSpot keeps them, even when no option names them any
more.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from masterops_sandbox.hubspot.default_properties import FIELD_TYPES
from masterops_sandbox.hubspot.errors import validation_error
from masterops_sandbox.hubspot.groups import PropertyGroups

if TYPE_CHECKING:
    from masterops_sandbox.hubspot.properties import PropertyDef

_UPDATABLE = frozenset(
    {
        "label",
        "type",
        "fieldType",
        "groupName",
        "description",
        "options",
        "displayOrder",
        "hidden",
        "formField",
    }
)


def option_labels(raw_options: Any) -> dict[str, str]:
    """``{value: label}`` from a request's ``options`` list."""
    if not isinstance(raw_options, list):
        raise validation_error("options must be a list")
    labels: dict[str, str] = {}
    for option in raw_options:
        if not isinstance(option, dict) or not isinstance(option.get("value"), str):
            raise validation_error("Each option needs a string value and label.")
        labels[option["value"]] = str(option.get("label", option["value"]))
    return labels


def edited(
    current: PropertyDef, body: Mapping[str, Any], groups: PropertyGroups, ms: int
) -> PropertyDef:
    """``current`` with the changes ``body`` asks for, or HubSpot's 400 naming the problem."""
    if current.hubspot_defined:
        raise validation_error(
            f"{current.name} is a HubSpot-defined property; its definition cannot be changed."
        )
    unknown = sorted(set(body) - _UPDATABLE)
    if unknown:
        raise validation_error(f"Unrecognized fields for a property update: {unknown}")
    kind = body.get("type", current.type)
    field_type = body.get("fieldType", current.field_type)
    if kind not in FIELD_TYPES:
        raise validation_error(f"Invalid property type: {kind!r}")
    if field_type not in FIELD_TYPES[kind]:
        raise validation_error(f"fieldType {field_type!r} is not valid for type {kind!r}")
    changed = replace(current, type=kind, field_type=field_type, updated_ms=ms)
    for key in ("label", "description"):
        if key in body:
            if not isinstance(body[key], str) or (key == "label" and not body[key]):
                raise validation_error(f"Property {key} must be a non-empty string.")
            changed = replace(changed, **{key: body[key]})
    if "groupName" in body:
        groups.require(str(body["groupName"]))
        changed = replace(changed, group_name=str(body["groupName"]))
    if "displayOrder" in body:
        if not isinstance(body["displayOrder"], int) or isinstance(body["displayOrder"], bool):
            raise validation_error("displayOrder must be an integer.")
        changed = replace(changed, display_order=body["displayOrder"])
    if "options" in body:
        labels = option_labels(body["options"])
        changed = replace(changed, options=tuple((lbl, v) for v, lbl in labels.items()))
    if changed.type == "enumeration" and not changed.options:
        raise validation_error("Enumeration properties need at least one option.")
    return changed
