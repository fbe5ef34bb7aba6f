"""``POST /crm/v3/objects/{type}/search``: filters, sorts, free text and offset paging.

Filter groups are OR'd, the filters inside one group AND'd; at most 5 groups, 10
filters per group and 25 in all (how values compare: ``matching.py``). Results
page by offset, and an offset of 10,000 or more is refused, as HubSpot does.

Incremental syncs (a range on ``hs_object_id`` or the modification date, sorted on
the same property) are answered from the store's sorted indexes without a scan,
and an EQ on a unique property (``email``) from its index.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from typing import Any

from masterops_sandbox.hubspot.default_properties import COMPUTED_ID, COMPUTED_MODIFIED
from masterops_sandbox.hubspot.errors import validation_error
from masterops_sandbox.hubspot.matching import (
    Filter,
    Sort,
    compile_filter,
    operand,
    query_match,
    sort_records,
)
from masterops_sandbox.hubspot.properties import PropertyRegistry
from masterops_sandbox.hubspot.store import ObjectStore, Record

MAX_GROUPS = 5
MAX_FILTERS_PER_GROUP = 10
MAX_FILTERS = 25
MAX_LIMIT = 200
MAX_OFFSET = 10_000
OPERATORS = frozenset(
    {
        "EQ",
        "NEQ",
        "LT",
        "LTE",
        "GT",
        "GTE",
        "BETWEEN",
        "IN",
        "NOT_IN",
        "HAS_PROPERTY",
        "NOT_HAS_PROPERTY",
        "CONTAINS_TOKEN",
        "NOT_CONTAINS_TOKEN",
    }
)
_RANGE_OPERATORS = frozenset({"EQ", "LT", "LTE", "GT", "GTE", "BETWEEN"})


@dataclass(frozen=True)
class SearchQuery:
    groups: tuple[tuple[Filter, ...], ...]
    sorts: tuple[Sort, ...]
    query: str | None
    properties: list[str] | None
    limit: int
    after: int


@dataclass(frozen=True)
class SearchResult:
    total: int
    records: list[Record]
    next_after: int | None


def _text(raw: Any) -> str:
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, str | int | float):
        return str(raw)
    raise validation_error(f"Invalid filter value: {raw!r}")


def parse_query(body: Any, registry: PropertyRegistry) -> SearchQuery:
    """Check a search body against HubSpot's caps and compile it."""
    if not isinstance(body, dict):
        raise validation_error("Invalid input JSON: the search body must be an object")
    raw_groups = body.get("filterGroups") or []
    if not isinstance(raw_groups, list):
        raise validation_error("filterGroups must be a list")
    if len(raw_groups) > MAX_GROUPS:
        raise validation_error(f"Too many filter groups ({len(raw_groups)}); the maximum is 5.")
    groups: list[tuple[Filter, ...]] = []
    total_filters = 0
    for raw_group in raw_groups:
        raw_filters = raw_group.get("filters", []) if isinstance(raw_group, dict) else None
        if not isinstance(raw_filters, list):
            raise validation_error("Each filter group needs a list of filters")
        if len(raw_filters) > MAX_FILTERS_PER_GROUP:
            raise validation_error(
                f"Too many filters in a group ({len(raw_filters)}); the maximum is 10."
            )
        total_filters += len(raw_filters)
        groups.append(tuple(_parse_filter(f, registry) for f in raw_filters))
    if total_filters > MAX_FILTERS:
        raise validation_error(f"Too many filters ({total_filters}); the maximum is 25.")
    limit = body.get("limit", 10)
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
        raise validation_error(f"Invalid limit: {limit!r}")
    if limit > MAX_LIMIT:
        raise validation_error(f"limit must be 200 or less, got {limit}.")
    raw_after = body.get("after", 0)
    after_text = _text(raw_after) if raw_after not in (None, "") else "0"
    if not after_text.isdigit():
        raise validation_error(f"Invalid after: {raw_after!r}")
    after = int(after_text)
    if after >= MAX_OFFSET:
        raise validation_error(
            "Search results cannot be paged past 10,000. Narrow the search (for example on "
            "hs_object_id or lastmodifieddate) and restart it."
        )
    properties = body.get("properties")
    if properties is not None and not (
        isinstance(properties, list) and all(isinstance(p, str) for p in properties)
    ):
        raise validation_error("properties must be a list of property names")
    query = body.get("query")
    if query is not None and not isinstance(query, str):
        raise validation_error("query must be a string")
    return SearchQuery(
        groups=tuple(groups),
        sorts=tuple(_parse_sort(s, registry) for s in body.get("sorts") or []),
        query=query or None,
        properties=properties,
        limit=limit,
        after=after,
    )


def _parse_filter(raw: Any, registry: PropertyRegistry) -> Filter:
    if not isinstance(raw, dict):
        raise validation_error("Each filter must be an object")
    name = raw.get("propertyName")
    definition = registry.get(name) if isinstance(name, str) else None
    if definition is None:
        raise validation_error(f"There was a problem with the request: unknown property {name!r}")
    operator = raw.get("operator", "EQ")
    if operator not in OPERATORS:
        raise validation_error(f"Invalid operator: {operator!r}")
    value = raw.get("value")
    values = raw.get("values")
    high = raw.get("highValue")
    if operator in ("IN", "NOT_IN") and (not isinstance(values, list) or not values):
        raise validation_error(f"{operator} needs a non-empty list of values")
    if operator == "BETWEEN" and (value is None or high is None):
        raise validation_error("BETWEEN needs value and highValue")
    if operator not in ("IN", "NOT_IN", "HAS_PROPERTY", "NOT_HAS_PROPERTY") and value is None:
        raise validation_error(f"{operator} needs a value")
    return Filter(
        definition,
        operator,
        None if value is None else _text(value),
        tuple(_text(v) for v in values or ()),
        None if high is None else _text(high),
    )


def _parse_sort(raw: Any, registry: PropertyRegistry) -> Sort:
    name: Any
    if isinstance(raw, str):
        name, descending = raw.lstrip("-"), raw.startswith("-")
    elif isinstance(raw, dict):
        name = raw.get("propertyName")
        descending = raw.get("direction", "ASCENDING") == "DESCENDING"
    else:
        raise validation_error(f"Invalid sort: {raw!r}")
    definition = registry.get(name) if isinstance(name, str) else None
    if definition is None:
        raise validation_error(f"Invalid sort property: {name!r}")
    return Sort(definition, descending)


# --- execution -------------------------------------------------------------------------------


def _index_range(store: ObjectStore, filters: tuple[Filter, ...]) -> tuple[str, int, int] | None:
    """When every filter bounds one indexed property, the (index, start, stop) they select."""
    if not filters:
        return None
    first = filters[0].definition
    kind = first.computed
    if kind not in (COMPUTED_ID, COMPUTED_MODIFIED):
        return None
    low, high = float("-inf"), float("inf")
    low_open = high_open = False
    for f in filters:
        if f.definition.computed != kind or f.operator not in _RANGE_OPERATORS:
            return None
        assert f.value is not None
        value = operand(f.definition, f.value)
        if value is None:
            raise validation_error(f"{f.value} is not a valid value for {f.definition.name}")
        bounds: list[tuple[str, float, bool]] = {
            "EQ": [("low", value, False), ("high", value, False)],
            "GT": [("low", value, True)],
            "GTE": [("low", value, False)],
            "LT": [("high", value, True)],
            "LTE": [("high", value, False)],
            "BETWEEN": [("low", value, False)],
        }[f.operator]
        if f.operator == "BETWEEN":
            assert f.high_value is not None
            top = operand(f.definition, f.high_value)
            if top is None:
                raise validation_error(f"{f.high_value} is not a valid value")
            bounds.append(("high", top, False))
        for side, bound, is_open in bounds:
            if side == "low" and (bound > low or (bound == low and is_open)):
                low, low_open = bound, is_open
            if side == "high" and (bound < high or (bound == high and is_open)):
                high, high_open = bound, is_open
    if kind == COMPUTED_ID:
        ids: list[Any] = store.ids
        start = (bisect_right if low_open else bisect_left)(ids, low)
        stop = (bisect_left if high_open else bisect_right)(ids, high)
        return ("ids", start, max(start, stop))
    modified: list[Any] = store.modified
    inf = float("inf")
    start = bisect_left(modified, (low, inf) if low_open else (low, -inf))
    stop = bisect_left(modified, (high, -inf) if high_open else (high, inf))
    return ("modified", start, max(start, stop))


def _slice(store: ObjectStore, index: str, start: int, stop: int) -> list[Record]:
    active = store.active
    if index == "ids":
        return [active[i] for i in store.ids[start:stop]]
    return [active[i] for _, i in store.modified[start:stop]]


def run_search(store: ObjectStore, query: SearchQuery) -> SearchResult:
    """Execute a parsed search over the store's active records."""
    after, limit = query.after, query.limit
    groups = query.groups
    single = groups[0] if len(groups) == 1 else None
    plan = _index_range(store, single) if single is not None and query.query is None else None
    if plan is not None and len(query.sorts) <= 1:
        index, start, stop = plan
        sort = query.sorts[0] if query.sorts else None
        order_kind = COMPUTED_ID if index == "ids" else COMPUTED_MODIFIED
        if (sort is None and index == "ids") or (
            sort is not None and sort.definition.computed == order_kind
        ):
            # Fast path: the index order is the answer's order; count without a scan.
            total = stop - start
            if sort is not None and sort.descending:
                lo, hi = max(start, stop - after - limit), stop - after
                page = list(reversed(_slice(store, index, lo, max(lo, hi))))
            else:
                page = _slice(store, index, start + after, min(stop, start + after + limit))
            return SearchResult(total, page, after + limit if after + limit < total else None)
    if groups == () and query.query is None and not query.sorts:
        total = len(store.ids)
        page = _slice(store, "ids", after, after + limit)
        return SearchResult(total, page, after + limit if after + limit < total else None)
    if plan is not None:
        candidates = _slice(store, plan[0], plan[1], plan[2])
        if plan[0] == "modified":
            candidates.sort(key=lambda r: r.id)
    else:
        narrowed = _unique_candidates(store, single) if single is not None else None
        candidates = list(store.active.values()) if narrowed is None else narrowed
    predicates = [[compile_filter(f) for f in group] for group in groups]
    matched = [
        r
        for r in candidates
        if not predicates or any(all(p(r) for p in group) for group in predicates)
    ]
    if query.query is not None:
        fields = store.registry.names(store.object_type.query_properties)
        matched = [r for r in matched if query_match(query.query, r, fields)]
    if query.sorts:
        matched = sort_records(matched, query.sorts)
    total = len(matched)
    page = matched[after : after + limit]
    return SearchResult(total, page, after + limit if after + limit < total else None)


def _unique_candidates(store: ObjectStore, filters: tuple[Filter, ...]) -> list[Record] | None:
    """The one record an EQ on a unique property can match, looked up in its index.

    The index is exact (emails are stored lower-cased), while EQ ignores case: a miss
    on any other property falls back to the scan rather than answering nothing."""
    for f in filters:
        if f.operator == "EQ" and f.definition.has_unique_value and f.value is not None:
            found = store.by_unique(f.definition.name, f.value)
            if found is not None:
                return [found]
            if f.definition.name == "email":
                return []
    return None
