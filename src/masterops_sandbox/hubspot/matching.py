"""How search filters, free text and sorts judge records.

Values compare as numbers when both sides parse as numbers (times as epoch ms or
ISO 8601), otherwise as case-insensitive strings. A record without the property
matches only NOT_HAS_PROPERTY. Each filter is compiled once per search into a
predicate, so a scan costs one closure call per record and filter.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from masterops_sandbox.hubspot.default_properties import (
    COMPUTED_CREATED,
    COMPUTED_ID,
    COMPUTED_MODIFIED,
)
from masterops_sandbox.hubspot.errors import validation_error
from masterops_sandbox.hubspot.properties import PropertyDef
from masterops_sandbox.hubspot.store import Record
from masterops_sandbox.hubspot.values import parse_number, parse_time

Key = Callable[[Record], Any]
Predicate = Callable[[Record], bool]
_Order = Callable[[Record], int | None]
_TOKEN_SPLIT = re.compile(r"[\s,;:/()\[\]\"'!?]+")


@dataclass(frozen=True)
class Filter:
    definition: PropertyDef
    operator: str
    value: str | None
    values: tuple[str, ...]
    high_value: str | None


@dataclass(frozen=True)
class Sort:
    definition: PropertyDef
    descending: bool


def is_time(definition: PropertyDef) -> bool:
    return definition.type in ("datetime", "date")


def numeric_key(definition: PropertyDef) -> Key | None:
    """A key giving numbers for numeric and time properties; None for text properties."""
    computed = definition.computed
    if computed == COMPUTED_ID:
        return lambda r: r.id
    if computed == COMPUTED_MODIFIED:
        return lambda r: r.updated_ms
    if computed == COMPUTED_CREATED:
        return lambda r: r.created_ms
    if not is_time(definition) and definition.type != "number":
        return None
    slot = definition.slot
    parse = parse_time if is_time(definition) else parse_number

    def key(record: Record) -> Any:
        values = record.values
        text = values[slot] if slot < len(values) else None
        return None if text is None else parse(text)

    return key


def operand(definition: PropertyDef, text: str) -> float | int | None:
    """A filter value as the number it is compared as, or None when it is not one."""
    return parse_time(text) if is_time(definition) else parse_number(text)


def _order(definition: PropertyDef, text: str) -> _Order:
    """-1/0/1 of a record's value against ``text``; None when the record has none."""
    numeric = numeric_key(definition)
    number = operand(definition, text)
    if numeric is not None:
        if number is None:
            raise validation_error(f"{text} is not a valid value for {definition.name}")
        bound = number

        def numeric_order(record: Record) -> int | None:
            mine = numeric(record)
            return None if mine is None else int(mine > bound) - int(mine < bound)

        return numeric_order
    lowered = text.lower()

    def text_order(record: Record) -> int | None:
        mine = record.get(definition)
        if mine is None:
            return None
        if number is not None:
            mine_number = parse_number(mine)
            if mine_number is not None:
                return int(mine_number > number) - int(mine_number < number)
        left = mine.lower()
        return int(left > lowered) - int(left < lowered)

    return text_order


def tokens(text: str) -> list[str]:
    return [t for t in _TOKEN_SPLIT.split(text.lower()) if t]


def _contains_token(text: str, token: str) -> bool:
    whole = text.lower()
    if "*" in token:
        return fnmatch.fnmatchcase(whole, token) or any(
            fnmatch.fnmatchcase(t, token) for t in tokens(text)
        )
    return whole == token or token in tokens(text)


_COMPARISONS: dict[str, Callable[[int], bool]] = {
    "EQ": lambda o: o == 0,
    "NEQ": lambda o: o != 0,
    "LT": lambda o: o < 0,
    "LTE": lambda o: o <= 0,
    "GT": lambda o: o > 0,
    "GTE": lambda o: o >= 0,
}


def compile_filter(f: Filter) -> Predicate:
    """The filter as a predicate; malformed values raise HubSpot's 400 here."""
    definition, op = f.definition, f.operator
    if op == "HAS_PROPERTY":
        return lambda r: r.get(definition) is not None
    if op == "NOT_HAS_PROPERTY":
        return lambda r: r.get(definition) is None
    if op in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
        assert f.value is not None
        token, wanted = f.value.lower(), op == "CONTAINS_TOKEN"

        def contains(record: Record) -> bool:
            text = record.get(definition)
            return text is not None and _contains_token(text, token) == wanted

        return contains
    if op in ("IN", "NOT_IN"):
        orders = [_order(definition, v) for v in f.values]
        wanted = op == "IN"

        def member(record: Record) -> bool:
            results = [order(record) for order in orders]
            if results and results[0] is None:
                return False
            return (0 in results) == wanted

        return member
    assert f.value is not None
    order = _order(definition, f.value)
    if op == "BETWEEN":
        assert f.high_value is not None
        upper = _order(definition, f.high_value)

        def between(record: Record) -> bool:
            low, high = order(record), upper(record)
            return low is not None and high is not None and low >= 0 and high <= 0

        return between
    accept = _COMPARISONS[op]

    def compare(record: Record) -> bool:
        result = order(record)
        return result is not None and accept(result)

    return compare


def query_match(query: str, record: Record, fields: list[PropertyDef]) -> bool:
    """Every word of ``query`` starts some word of the type's searchable properties."""
    words: list[str] = []
    for definition in fields:
        text = record.get(definition)
        if text is not None:
            words.append(text.lower())
            words.extend(tokens(text))
    return all(any(w.startswith(q) for w in words) for q in tokens(query))


def _sort_key(definition: PropertyDef) -> Key:
    numeric = numeric_key(definition)
    if numeric is not None:
        return numeric

    def key(record: Record) -> Any:
        text = record.get(definition)
        return None if text is None else text.lower()

    return key


def sort_records(records: list[Record], sorts: tuple[Sort, ...]) -> list[Record]:
    """Records ordered by the sorts; records without the value always come last."""
    # Stable sorts from the least significant rule up.
    for rule in reversed(sorts):
        key = _sort_key(rule.definition)
        keyed = [(key(r), r) for r in records]
        missing = [r for k, r in keyed if k is None]
        ordered = sorted(
            ((k, r) for k, r in keyed if k is not None),
            key=lambda pair: pair[0],
            reverse=rule.descending,
        )
        records = [r for _, r in ordered] + missing
    return records
