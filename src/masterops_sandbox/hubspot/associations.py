"""Associations between records (v4): typed, directional, stored with their inverse.

Every link is kept from both ends, so reading associations from either side is a
dict lookup. HubSpot-defined type ids: 279 contact->company (documented); 3
deal->contact, 5 deal->company and 19 deal->line_item are unverified but used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from masterops_sandbox.hubspot.errors import validation_error
from masterops_sandbox.hubspot.labels import AssociationLabels

HUBSPOT_DEFINED = "HUBSPOT_DEFINED"
USER_DEFINED = "USER_DEFINED"
Spec = tuple[str, int]  # (associationCategory, associationTypeId)


@dataclass(frozen=True)
class AssociationType:
    type_id: int
    from_type: str
    to_type: str
    inverse: int
    name: str
    label: str | None = None


_TYPES: tuple[AssociationType, ...] = (
    AssociationType(279, "contacts", "companies", 280, "contact_to_company_unlabeled"),
    AssociationType(280, "companies", "contacts", 279, "company_to_contact_unlabeled"),
    AssociationType(1, "contacts", "companies", 2, "contact_to_company", "Primary"),
    AssociationType(2, "companies", "contacts", 1, "company_to_contact", "Primary"),
    AssociationType(3, "deals", "contacts", 4, "deal_to_contact"),
    AssociationType(4, "contacts", "deals", 3, "contact_to_deal"),
    AssociationType(5, "deals", "companies", 6, "deal_to_company"),
    AssociationType(6, "companies", "deals", 5, "company_to_deal"),
    AssociationType(19, "deals", "line_items", 20, "deal_to_line_item"),
    AssociationType(20, "line_items", "deals", 19, "line_item_to_deal"),
)
ASSOCIATION_TYPES: dict[int, AssociationType] = {t.type_id: t for t in _TYPES}

# The type a "default" association uses for each pair of object types.
DEFAULT_TYPES: dict[tuple[str, str], int] = {
    ("contacts", "companies"): 279,
    ("companies", "contacts"): 280,
    ("deals", "contacts"): 3,
    ("contacts", "deals"): 4,
    ("deals", "companies"): 5,
    ("companies", "deals"): 6,
    ("deals", "line_items"): 19,
    ("line_items", "deals"): 20,
}


def default_spec(from_type: str, to_type: str) -> Spec:
    type_id = DEFAULT_TYPES.get((from_type, to_type))
    if type_id is None:
        raise validation_error(f"No default association type exists from {from_type} to {to_type}")
    return (HUBSPOT_DEFINED, type_id)


def defined_types(from_type: str, to_type: str) -> list[AssociationType]:
    """HubSpot's own association types from one object type to another."""
    return [t for t in _TYPES if (t.from_type, t.to_type) == (from_type, to_type)]


def parse_specs(
    raw: Any, from_type: str, to_type: str, labels: AssociationLabels | None = None
) -> list[Spec]:
    """``[{associationCategory, associationTypeId}]`` from a request, checked for the pair
    (user-defined types against the portal's ``labels``)."""
    if not isinstance(raw, list) or not raw:
        raise validation_error("Invalid input JSON: expected a list of association types")
    specs: list[Spec] = []
    for item in raw:
        if not isinstance(item, dict):
            raise validation_error("Invalid input JSON: association types must be objects")
        category = item.get("associationCategory")
        type_id = item.get("associationTypeId")
        if category not in (HUBSPOT_DEFINED, USER_DEFINED, "INTEGRATOR_DEFINED"):
            raise validation_error(f"Invalid associationCategory: {category!r}")
        if not isinstance(type_id, int) or isinstance(type_id, bool):
            raise validation_error(f"Invalid associationTypeId: {type_id!r}")
        if category == HUBSPOT_DEFINED:
            known = ASSOCIATION_TYPES.get(type_id)
            if known is None or (known.from_type, known.to_type) != (from_type, to_type):
                raise validation_error(
                    f"{type_id} is not a valid association type from {from_type} to {to_type}"
                )
        elif labels is not None and category == USER_DEFINED:
            label = labels.get(type_id)
            if label is None or (label.from_type, label.to_type) != (from_type, to_type):
                raise validation_error(
                    f"{type_id} is not a valid association type from {from_type} to {to_type}"
                )
        specs.append((category, type_id))
    return specs


def _inverse(spec: Spec, labels: AssociationLabels) -> Spec:
    category, type_id = spec
    if category == HUBSPOT_DEFINED:
        return (category, ASSOCIATION_TYPES[type_id].inverse)
    label = labels.get(type_id)
    # A user-defined label has a paired type for the other direction; types nobody
    # defined here (integrator ones) read the same from both ends.
    return spec if label is None else (category, label.inverse)


def spec_json(spec: Spec, labels: AssociationLabels | None = None) -> dict[str, Any]:
    category, type_id = spec
    text: str | None = None
    if category == HUBSPOT_DEFINED:
        known = ASSOCIATION_TYPES.get(type_id)
        text = known.label if known else None
    elif labels is not None and (label := labels.get(type_id)) is not None:
        text = label.label
    return {"category": category, "typeId": type_id, "label": text}


Key = tuple[str, int]  # (object type name, record id)


class AssociationStore:
    """All associations of one portal."""

    def __init__(self) -> None:
        self._links: dict[Key, dict[str, dict[int, set[Spec]]]] = {}
        self.labels = AssociationLabels()

    def add(self, src: Key, dst: Key, specs: list[Spec]) -> None:
        forward = self._links.setdefault(src, {}).setdefault(dst[0], {}).setdefault(dst[1], set())
        backward = self._links.setdefault(dst, {}).setdefault(src[0], {}).setdefault(src[1], set())
        for spec in specs:
            forward.add(spec)
            backward.add(_inverse(spec, self.labels))

    def remove(self, src: Key, dst: Key, specs: list[Spec] | None = None) -> None:
        """Remove the given types between two records, or every type when ``specs`` is None."""
        inverse = None if specs is None else {_inverse(s, self.labels) for s in specs}
        self._discard(src, dst, None if specs is None else set(specs))
        self._discard(dst, src, inverse)

    def _discard(self, src: Key, dst: Key, specs: set[Spec] | None) -> None:
        targets = self._links.get(src, {}).get(dst[0])
        if not targets or dst[1] not in targets:
            return
        if specs is not None:
            targets[dst[1]] -= specs
        if specs is None or not targets[dst[1]]:
            del targets[dst[1]]

    def targets(self, src: Key, to_type: str) -> list[tuple[int, list[Spec]]]:
        """(to id, types) for every record of ``to_type`` linked from ``src``, by id."""
        found = self._links.get(src, {}).get(to_type, {})
        return [(to_id, sorted(found[to_id])) for to_id in sorted(found)]

    def drop(self, key: Key) -> None:
        """Forget every association of a record being archived."""
        for to_type, targets in self._links.pop(key, {}).items():
            for to_id in targets:
                back = self._links.get((to_type, to_id), {}).get(key[0])
                if back is not None:
                    back.pop(key[1], None)

    def links_of(self, src: Key) -> list[tuple[Key, list[Spec]]]:
        """Every link of one record: ((to type, to id), types)."""
        return [
            ((to_type, to_id), sorted(specs))
            for to_type, targets in self._links.get(src, {}).items()
            for to_id, specs in targets.items()
        ]

    def forget_type(self, spec: Spec) -> None:
        """Remove one association type from every link (its label was deleted)."""
        for by_type in self._links.values():
            for targets in by_type.values():
                for to_id in [t for t, specs in targets.items() if spec in specs]:
                    targets[to_id].discard(spec)
                    if not targets[to_id]:
                        del targets[to_id]

    def count(self) -> int:
        """Associated pairs, each counted once from each end."""
        return sum(len(t) for by_type in self._links.values() for t in by_type.values())

    # --- snapshot (the state folder) ---------------------------------------------------------

    def to_state(self) -> list[list[Any]]:
        """Every link as ``[from type, from id, to type, to id, [[category, type id], ...]]``,
        both directions included, so loading needs no inverse lookups."""
        return [
            [src[0], src[1], to_type, to_id, [list(spec) for spec in specs]]
            for src, by_type in self._links.items()
            for to_type, targets in by_type.items()
            for to_id, specs in targets.items()
        ]

    def load_state(self, state: list[list[Any]]) -> None:
        self._links = {}
        for src_type, src_id, to_type, to_id, specs in state:
            targets = self._links.setdefault((src_type, int(src_id)), {}).setdefault(to_type, {})
            targets[int(to_id)] = {(str(c), int(t)) for c, t in specs}
