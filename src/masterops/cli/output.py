"""Rendering results: rich tables on a terminal, JSON with ``--json``."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table


def to_json(data: Any) -> str:
    return json.dumps(data, default=_default, indent=2, sort_keys=False)


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    return str(value)


def print_json(data: Any) -> None:
    sys.stdout.write(to_json(data) + "\n")


def console() -> Console:
    # Piped output gets a wide fixed width so tables stay readable in files and CI logs.
    return Console(soft_wrap=False, width=None if sys.stdout.isatty() else 200)


def cell(value: Any) -> str:
    """Plain text for a table cell; rich markup in data (``[...]`` in an error) is escaped."""
    return escape(_plain(value))


def _plain(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, dict | list):
        text = json.dumps(value, default=str)
        return text if len(text) <= 60 else text[:57] + "..."
    return str(value)


def print_table(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str] | None = None,
    *,
    title: str | None = None,
    empty: str = "nothing to show",
) -> None:
    out = console()
    if not rows:
        out.print(f"[dim]{empty}[/dim]")
        return
    columns = list(columns or rows[0].keys())
    table = Table(title=title, show_lines=False)
    for name in columns:
        table.add_column(name, overflow="fold")
    for row in rows:
        table.add_row(*(cell(row.get(c)) for c in columns))
    out.print(table)


def print_mapping(data: Mapping[str, Any], *, title: str | None = None) -> None:
    table = Table(title=title, show_header=False)
    table.add_column("key", style="bold")
    table.add_column("value", overflow="fold")
    for key, value in data.items():
        table.add_row(key, cell(value))
    console().print(table)
