"""A small builder for HubSpot search filters, checked against HubSpot's caps.

``Filter.eq("email", x)`` is one condition; ``AllOf(f1, f2)`` is a filter group (its
filters AND'd); ``AnyOf(g1, g2)`` OR's groups. HubSpot allows at most 5 groups, 10 filters
in a group and 25 in all: a query over the caps raises ``ValueError`` here, before any
call, instead of a 400 from HubSpot::

    where = AnyOf(
        AllOf(Filter.eq("lifecyclestage", "customer"), Filter.has_property("phone")),
        Filter.in_("email", ["ann@example.com", "bob@example.com"]),
    )
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

MAX_GROUPS = 5
MAX_FILTERS_PER_GROUP = 10
MAX_FILTERS = 25

FilterValue = str | int | float | bool | datetime


def _text(value: FilterValue) -> str:
    """HubSpot compares filter values as text or numbers; dates go as epoch milliseconds."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("a datetime filter value must be timezone-aware")
        return str(int(value.timestamp() * 1000))
    return str(value)


@dataclass(frozen=True, slots=True)
class Filter:
    """One condition on one property. Build it with the class methods."""

    property_name: str
    operator: str
    value: str | None = None
    values: tuple[str, ...] | None = None
    high_value: str | None = None

    @classmethod
    def eq(cls, name: str, value: FilterValue) -> Filter:
        return cls(name, "EQ", _text(value))

    @classmethod
    def neq(cls, name: str, value: FilterValue) -> Filter:
        return cls(name, "NEQ", _text(value))

    @classmethod
    def lt(cls, name: str, value: FilterValue) -> Filter:
        return cls(name, "LT", _text(value))

    @classmethod
    def lte(cls, name: str, value: FilterValue) -> Filter:
        return cls(name, "LTE", _text(value))

    @classmethod
    def gt(cls, name: str, value: FilterValue) -> Filter:
        return cls(name, "GT", _text(value))

    @classmethod
    def gte(cls, name: str, value: FilterValue) -> Filter:
        return cls(name, "GTE", _text(value))

    @classmethod
    def between(cls, name: str, low: FilterValue, high: FilterValue) -> Filter:
        """``low <= value <= high``."""
        return cls(name, "BETWEEN", _text(low), high_value=_text(high))

    @classmethod
    def in_(cls, name: str, values: Iterable[FilterValue]) -> Filter:
        return cls(name, "IN", values=_non_empty(name, values))

    @classmethod
    def not_in(cls, name: str, values: Iterable[FilterValue]) -> Filter:
        return cls(name, "NOT_IN", values=_non_empty(name, values))

    @classmethod
    def has_property(cls, name: str) -> Filter:
        return cls(name, "HAS_PROPERTY")

    @classmethod
    def not_has_property(cls, name: str) -> Filter:
        return cls(name, "NOT_HAS_PROPERTY")

    @classmethod
    def contains_token(cls, name: str, token: str) -> Filter:
        return cls(name, "CONTAINS_TOKEN", token)

    @classmethod
    def not_contains_token(cls, name: str, token: str) -> Filter:
        return cls(name, "NOT_CONTAINS_TOKEN", token)

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"propertyName": self.property_name, "operator": self.operator}
        if self.value is not None:
            body["value"] = self.value
        if self.values is not None:
            body["values"] = list(self.values)
        if self.high_value is not None:
            body["highValue"] = self.high_value
        return body


def _non_empty(name: str, values: Iterable[FilterValue]) -> tuple[str, ...]:
    found = tuple(_text(v) for v in values)
    if not found:
        raise ValueError(f"an IN/NOT_IN filter on {name!r} needs at least one value")
    return found


class AllOf:
    """One filter group: every filter must hold."""

    __slots__ = ("filters",)

    def __init__(self, *filters: Filter) -> None:
        if not filters:
            raise ValueError("a filter group needs at least one filter")
        if len(filters) > MAX_FILTERS_PER_GROUP:
            raise ValueError(
                f"a filter group holds at most {MAX_FILTERS_PER_GROUP} filters "
                f"(HubSpot's cap), got {len(filters)}"
            )
        self.filters: tuple[Filter, ...] = filters

    def __repr__(self) -> str:
        return f"AllOf{self.filters!r}"


class AnyOf:
    """Filter groups of which at least one must hold."""

    __slots__ = ("groups",)

    def __init__(self, *groups: AllOf | Filter) -> None:
        self.groups: tuple[AllOf, ...] = tuple(
            g if isinstance(g, AllOf) else AllOf(g) for g in groups
        )
        check_caps(self.groups)

    def __repr__(self) -> str:
        return f"AnyOf{self.groups!r}"


Where = Filter | AllOf | AnyOf


def groups_of(where: Where | None) -> tuple[AllOf, ...]:
    """The filter groups of ``where`` (none for None)."""
    if where is None:
        return ()
    if isinstance(where, Filter):
        return (AllOf(where),)
    if isinstance(where, AllOf):
        return (where,)
    return where.groups


def check_caps(groups: tuple[AllOf, ...]) -> None:
    """Raise ``ValueError`` when ``groups`` exceed HubSpot's caps."""
    if len(groups) > MAX_GROUPS:
        raise ValueError(
            f"a search holds at most {MAX_GROUPS} filter groups (HubSpot's cap), got {len(groups)}"
        )
    total = sum(len(g.filters) for g in groups)
    if total > MAX_FILTERS:
        raise ValueError(
            f"a search holds at most {MAX_FILTERS} filters in all (HubSpot's cap), got {total}"
        )


def with_filter(groups: tuple[AllOf, ...], extra: Filter) -> tuple[AllOf, ...]:
    """``groups`` with ``extra`` AND'd into each (into a group of its own when there are
    none): groups are OR'd, so a bound must be in every group to bound the whole search."""
    if not groups:
        return (AllOf(extra),)
    bounded = tuple(AllOf(*g.filters, extra) for g in groups)
    check_caps(bounded)
    return bounded


def filter_groups_json(groups: tuple[AllOf, ...]) -> list[dict[str, Any]]:
    return [{"filters": [f.to_json() for f in g.filters]} for g in groups]


@dataclass(frozen=True, slots=True)
class Sort:
    """A search sort; HubSpot honours one."""

    property_name: str
    descending: bool = False

    @classmethod
    def asc(cls, name: str) -> Sort:
        return cls(name)

    @classmethod
    def desc(cls, name: str) -> Sort:
        return cls(name, descending=True)

    def to_json(self) -> dict[str, str]:
        direction = "DESCENDING" if self.descending else "ASCENDING"
        return {"propertyName": self.property_name, "direction": direction}
