"""Time arithmetic written as SQL for each dialect (the views cannot bind parameters).

Times compare as ``timestamptz`` on PostgreSQL and as naive UTC text
(``YYYY-MM-DD HH:MM:SS.ffffff``) on SQLite, where a shorter text such as
``2026-01-01 10:00:00`` still sorts exactly where its instant belongs.
"""

from __future__ import annotations


def ago(dialect: str, hours: int) -> str:
    """Now minus ``hours``."""
    if dialect == "sqlite":
        return f"strftime('%Y-%m-%d %H:%M:%f', 'now', '-{int(hours)} hours')"
    return f"(now() - interval '{int(hours)} hours')"


def hour_floor(dialect: str, expr: str) -> str:
    """The UTC hour that ``expr`` falls in (in the stored format on SQLite)."""
    if dialect == "postgresql":
        return f"date_trunc('hour', {expr}, 'UTC')"
    return f"(substr({expr}, 1, 13) || ':00:00.000000')"


def day_floor(dialect: str, expr: str) -> str:
    if dialect == "postgresql":
        return f"date_trunc('day', {expr}, 'UTC')"
    return f"(substr({expr}, 1, 10) || ' 00:00:00.000000')"


def next_hour(dialect: str, expr: str) -> str:
    """The first whole UTC hour after ``expr``'s hour starts."""
    if dialect == "postgresql":
        return f"(date_trunc('hour', {expr}, 'UTC') + interval '1 hour')"
    return f"strftime('%Y-%m-%d %H:00:00', {expr}, '+1 hour')"


def next_day(dialect: str, expr: str) -> str:
    if dialect == "postgresql":
        return f"(date_trunc('day', {expr}, 'UTC') + interval '1 day')"
    return f"strftime('%Y-%m-%d 00:00:00', {expr}, '+1 day')"
