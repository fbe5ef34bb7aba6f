"""Rendering results: rich tables on a terminal, JSON with ``--json``.

Tables fit the terminal: a header wraps only between words (``avg_duration_ms`` is shown
as "avg duration ms" and its column is never narrower than "duration"), short values
(numbers, ids, times) are never wrapped, times are relative ("5m ago"), and when the
columns still do not fit, the ones a command marks ``optional`` are hidden first, with a
caption naming them. ``wide=True`` (``--wide``) shows every column, every value in full and
times to the second, at the table's natural width.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

#: Width used when stdout is not a terminal and COLUMNS is not set: files and CI logs.
PIPED_WIDTH = 200
#: A column whose values are all this short (numbers, ids, statuses, relative times) always
#: gets its full width: it is never wrapped.
SHORT_VALUE = 20
#: A wrapping column is never squeezed narrower than this (or its longest value).
MIN_TEXT_WIDTH = 12

_ISO_TIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)?$"
)


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


def terminal_width() -> int:
    """COLUMNS when set (the shell's convention), else the terminal's width; output that
    is not a terminal gets ``PIPED_WIDTH``."""
    if sys.stdout.isatty():
        return shutil.get_terminal_size().columns
    return shutil.get_terminal_size((PIPED_WIDTH, 24)).columns


def console(width: int | None = None) -> Console:
    return Console(soft_wrap=False, width=width or terminal_width())


# -- values -------------------------------------------------------------------------------


def human_time(value: datetime, *, exact: bool = False, now: datetime | None = None) -> str:
    """``exact``: UTC to the second ("2026-12-04 11:35:20"); else relative to ``now``
    ("45s ago", "12m ago", "3h ago", "2d ago", "in 5m")."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)  # the database's times are UTC
    if exact:
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    seconds = ((now or datetime.now(UTC)) - value).total_seconds()
    size = abs(seconds)
    if size < 1:
        return "now"
    for unit, length in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if size >= length:
            amount = f"{int(size // length)}{unit}"
            return f"{amount} ago" if seconds > 0 else f"in {amount}"
    raise AssertionError("unreachable")  # size >= 1 always matches "s"


def as_time(value: Any) -> datetime | None:
    """``value`` as a datetime when it is one or an ISO timestamp string, else None."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_TIME.match(value):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return None


def cell(value: Any, *, exact_times: bool = True) -> str:
    """Plain text for a table cell; rich markup in data (``[...]`` in an error) is escaped."""
    return escape(_plain(value, exact_times=exact_times))


def _plain(value: Any, *, exact_times: bool = True) -> str:
    if value is None:
        return ""
    when = as_time(value)
    if when is not None:
        return human_time(when, exact=exact_times)
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, dict | list):
        text = json.dumps(value, default=str)
        return text if len(text) <= 60 else text[:57] + "..."
    return str(value)


# -- fitting columns ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Column:
    key: str
    header: str
    least: int  # the narrowest it may be: its longest header word, all of a short value
    natural: int  # the width that shows every value on one line
    short: bool  # every value short: given its full width, never wrapped


def header_text(key: str) -> str:
    """The header of column ``key``: its words separated by spaces, so it wraps between them."""
    return key.replace("_", " ")


def _measure(key: str, texts: Sequence[str]) -> _Column:
    header = header_text(key)
    longest_word = max(len(word) for word in header.split())
    longest_value = max((len(t) for t in texts), default=0)
    short = all(len(t) <= SHORT_VALUE for t in texts)
    if short:
        least = max(longest_word, longest_value)
    else:
        least = max(longest_word, min(longest_value, MIN_TEXT_WIDTH))
    return _Column(key, header, least, max(least, longest_value), short)


def _overhead(count: int) -> int:
    # rich's box: one space of padding each side of a value and a rule around each column
    return 3 * count + 1


def _fit(
    columns: list[_Column], optional: Collection[str], width: int
) -> tuple[list[_Column], list[str]]:
    """The columns to show within ``width`` and the keys hidden: optional ones go first
    (the last declared first), then others from the right; the first column always stays."""
    shown = list(columns)
    hidden: list[str] = []
    candidates = [c for c in reversed(columns) if c.key in optional]
    candidates += [c for c in reversed(columns[1:]) if c.key not in optional]
    for column in candidates:
        if sum(c.least for c in shown) + _overhead(len(shown)) <= width:
            break
        shown.remove(column)
        hidden.append(column.key)
    return shown, hidden


def _full_widths(columns: Sequence[_Column]) -> dict[str, int]:
    """Every value and every header on one line."""
    return {c.key: max(c.natural, len(c.header)) for c in columns}


def _widths(columns: Sequence[_Column], width: int) -> dict[str, int]:
    """Everything on one line when that fits; else short columns get their values' width
    (headers wrap between words) and the wrapping ones share what is left, each given its
    natural width when the share allows and never less than its least."""
    full = _full_widths(columns)
    if sum(full.values()) + _overhead(len(columns)) <= width:
        return full
    widths = {c.key: c.least for c in columns if c.short}
    text = sorted((c for c in columns if not c.short), key=lambda c: c.natural)
    left = width - _overhead(len(columns)) - sum(widths.values())
    for i, column in enumerate(text):
        share = left // (len(text) - i)
        widths[column.key] = max(column.least, min(column.natural, share))
        left -= widths[column.key]
    return widths


def print_table(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str] | None = None,
    *,
    title: str | None = None,
    empty: str = "nothing to show",
    optional: Collection[str] = (),
    styles: Mapping[str, Mapping[str, str]] | None = None,
    wide: bool | None = None,
) -> None:
    """``rows`` as a table of ``columns`` (default: the first row's keys) that fits the
    terminal; ``optional`` columns are hidden first when it is narrow, ``styles`` maps a
    column's values to rich styles, ``wide=True`` shows everything in full. ``wide=None``
    says the command has no ``--wide``, so a caption points to ``--json`` instead."""
    width = terminal_width()
    if not rows:
        console(width).print(f"[dim]{empty}[/dim]")
        return
    keys = list(columns or rows[0].keys())
    texts = {k: [_plain(row.get(k), exact_times=bool(wide)) for row in rows] for k in keys}
    measured = [_measure(k, texts[k]) for k in keys]
    hidden: list[str] = []
    if wide:  # every column at its natural width, headers on one line: nothing hidden
        shown = measured
        widths = _full_widths(measured)
        width = max(width, sum(widths.values()) + _overhead(len(measured)))
    else:
        shown, hidden = _fit(measured, optional, width)
        widths = _widths(shown, width)
    caption = (
        f"hidden: {', '.join(header_text(k) for k in keys if k in hidden)} "
        f"({'--json' if wide is None else '--wide'} shows every column)"
        if hidden
        else None
    )
    table = Table(title=title, caption=caption, show_lines=False)
    for column in shown:
        table.add_column(column.header, width=widths[column.key], overflow="ellipsis")
    for i in range(len(rows)):
        cells = []
        for column in shown:
            text = escape(texts[column.key][i])
            style = (styles or {}).get(column.key, {}).get(texts[column.key][i])
            cells.append(f"[{style}]{text}[/{style}]" if style and text else text)
        table.add_row(*cells)
    console(width).print(table)


def print_line(markup: str, *, wide: bool = False) -> None:
    """One record on one line: cut with an ellipsis at the terminal's width, or in full
    (``wide``: the terminal wraps it, nothing is lost)."""
    out = console()
    if wide:
        out.print(markup, soft_wrap=True, highlight=False)
    else:
        out.print(markup, no_wrap=True, overflow="ellipsis", crop=True, highlight=False)


def print_mapping(data: Mapping[str, Any], *, title: str | None = None, wide: bool = False) -> None:
    table = Table(title=title, show_header=False)
    table.add_column("key", style="bold", no_wrap=True)
    table.add_column("value", overflow="fold")
    for key, value in data.items():
        table.add_row(key, cell(value))
    out = console()
    if wide:
        out = console(max(out.width, out.measure(table).maximum))
    out.print(table)
