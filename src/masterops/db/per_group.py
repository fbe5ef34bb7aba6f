"""The first rows of each group in one statement: what a list of businesses with their
related records reads, instead of one statement per business.

``ROW_NUMBER() OVER (PARTITION BY ...)`` speaks both dialects (SQLite since 3.25) and
keeps each group's own limit, which one ``LIMIT`` over all groups could not.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, func, select

_RANK = "group_rank"


def rows_by_group(
    conn: Connection,
    stmt: Select[Any],
    group: ColumnElement[Any],
    *,
    order_by: Sequence[ColumnElement[Any]] = (),
    limit: int | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """The rows of ``stmt`` by the value of its column ``group``, each group in
    ``order_by`` order and cut to its first ``limit`` rows (all of them when None).
    A group without rows is absent."""
    outer = stmt.order_by(*order_by)
    if limit is not None:
        rank = func.row_number().over(partition_by=group, order_by=list(order_by)).label(_RANK)
        ranked = stmt.add_columns(rank).subquery()
        outer = (
            select(*(c for c in ranked.c if c.name != _RANK))
            .where(ranked.c[_RANK] <= limit)
            .order_by(ranked.c[_RANK])
        )
    found: dict[str, list[dict[str, Any]]] = {}
    for row in conn.execute(outer):
        values = dict(row._mapping)
        found.setdefault(str(values[group.key]), []).append(values)
    return found
