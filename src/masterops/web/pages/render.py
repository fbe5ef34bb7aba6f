"""Rendering the dashboard's Jinja templates: autoescaped, with human times.

Every time is shown as "3 min ago" with the absolute time, in the one configured zone,
as its tooltip (and machine-readable in ``<time datetime>``). Values from outside
(messages, names, errors) are escaped by Jinja's autoescape: no template marks anything
safe that came from the database.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from masterops import __version__
from masterops.web.pages.access import Viewer

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

NAV = (
    ("/", "Overview"),
    ("/integrations", "Integrations"),
    ("/syncs", "Syncs"),
    ("/workflows", "Workflows"),
    ("/alerts", "Alerts"),
    ("/tasks", "Tasks"),
    ("/logs", "Logs"),
)


def ago(then: datetime | None, now: datetime) -> str:
    """``then`` relative to ``now`` in the largest whole unit: "just now", "3 min ago",
    "2 h ago", "5 d ago" (or "in 3 min" for a time ahead)."""
    if then is None:
        return "never"
    seconds = int((now - then).total_seconds())
    ahead, seconds = seconds < 0, abs(seconds)
    if seconds < 10:
        return "just now"
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min"), (1, "s")):
        if seconds >= size:
            amount = f"{seconds // size} {unit}"
            return f"in {amount}" if ahead else f"{amount} ago"
    return "just now"  # unreachable: seconds >= 10


class Clock:
    """Formats times for one page: one "now" (so every "ago" on the page agrees) and
    one zone."""

    def __init__(self, now: datetime, zone: str) -> None:
        self.now = now
        self.zone = ZoneInfo(zone)

    def absolute(self, value: datetime | None) -> str:
        if value is None:
            return ""
        return value.astimezone(self.zone).strftime("%Y-%m-%d %H:%M:%S %Z")

    def time(self, value: datetime | None) -> Markup:
        """A ``<time>`` element: relative text, absolute tooltip."""
        if value is None:
            return Markup('<span class="muted">never</span>')
        return Markup('<time datetime="{iso}" title="{full}">{rel}</time>').format(
            iso=value.astimezone(UTC).isoformat(),
            full=self.absolute(value),
            rel=ago(value, self.now),
        )


def number(value: float | int | None, digits: int = 0) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}"


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["number"] = number
    env.filters["percent"] = percent
    env.filters["e"] = escape
    return env


def page(
    request: Request,
    template: str,
    viewer: Viewer,
    now: datetime,
    context: Mapping[str, Any],
    status: int = 200,
) -> HTMLResponse:
    """A template rendered for ``viewer`` at ``now`` in the configured zone."""
    zone: str = request.app.state.settings.timezone
    values = {
        "request_path": request.url.path,
        "nav": NAV,
        "viewer": viewer,
        "clock": Clock(now, zone),
        "zone": zone,
        "version": __version__,
        **context,
    }
    html = environment().get_template(template).render(values)
    return HTMLResponse(html, status_code=status)
