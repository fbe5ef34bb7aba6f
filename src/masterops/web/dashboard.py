"""``GET /``: one self-contained HTML page (no scripts, styles inline) that reloads itself.

Server-rendered from the same reads as the API. Every value that came from outside
(log messages, error texts, workflow names) goes through ``html.escape``: a message
containing markup must show as text, never run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from html import escape
from typing import Any

from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from masterops import __version__
from masterops.db.summaries import run_summary
from masterops.sync.state import recent_runs
from masterops.web.auth import authenticate, require_every_business
from masterops.web.inbox import status_counts
from masterops.web.readings import latest_health, overall_status
from masterops.web.responses import BadRequest
from masterops.web.sessions import SESSION_COOKIE, SessionStore

REFRESH_SECONDS = 30
ROWS = 20

STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5rem;color:#1d2327;background:#f6f7f7}
h1{font-size:1.4rem;margin:0 0 .2rem}h2{font-size:1.05rem;margin:1.6rem 0 .4rem}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #dcdcde;vertical-align:top}
th{background:#f0f0f1;font-weight:600}.muted{color:#646970}
.healthy,.succeeded{color:#00701a;font-weight:600}.degraded,.interrupted,.running{color:#996800;font-weight:600}
.down,.failed,.error,.crashed{color:#b32d2e;font-weight:600}.disabled,.unknown{color:#646970}
.badge{display:inline-block;padding:.1rem .6rem;border-radius:1rem;background:#fff;border:1px solid}
"""

Cell = Callable[[Mapping[str, Any]], str]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, float):
        return f"{value:,.1f}"
    return str(value)


def field(name: str) -> Cell:
    return lambda row: escape(_text(row.get(name)))


def status(name: str) -> Cell:
    def cell(row: Mapping[str, Any]) -> str:
        value = escape(_text(row.get(name)))
        return f'<span class="{value}">{value}</span>'

    return cell


def table(
    title: str, rows: Sequence[Mapping[str, Any]], columns: Iterable[tuple[str, Cell]], empty: str
) -> str:
    parts = [f"<h2>{escape(title)}</h2>"]
    if not rows:
        parts.append(f'<p class="muted">{escape(empty)}</p>')
        return "".join(parts)
    cols = list(columns)
    parts.append("<table><thead><tr>")
    parts.extend(f"<th>{escape(label)}</th>" for label, _ in cols)
    parts.append("</tr></thead><tbody>")
    for row in rows:
        parts.append("<tr>" + "".join(f"<td>{cell(row)}</td>" for _, cell in cols) + "</tr>")
    parts.append("</tbody></table>")
    return "".join(parts)


def collect(conn: Connection) -> dict[str, Any]:
    now = datetime.now(UTC)
    day = now - timedelta(hours=24)
    return {
        "now": now,
        "health": latest_health(conn),
        "errors": run_summary(conn, "recent_errors", day)[:ROWS],
        "failures": run_summary(conn, "recent_workflow_failures", now - timedelta(days=7))[:ROWS],
        "runs": recent_runs(conn, limit=ROWS),
        "apis": run_summary(conn, "api_performance_summary", day),
        "inbox": status_counts(conn),
    }


def render(data: Mapping[str, Any], signout_csrf: str | None = None) -> str:
    overall = overall_status(data["health"])
    inbox = data["inbox"]
    sections = [
        table(
            "Health",
            data["health"],
            [
                ("Business", field("business_id")),
                ("Service", field("service")),
                ("Status", status("status")),
                ("Latency ms", field("latency_ms")),
                ("Message", field("message")),
                ("Checked (UTC)", field("checked_at")),
            ],
            "no health checks yet: run `ops health`",
        ),
        table(
            "Recent errors (24 h)",
            data["errors"],
            [
                ("When (UTC)", field("created_at")),
                ("Source", field("source")),
                ("Service", field("service")),
                ("Business", field("business_id")),
                ("Operation", field("operation")),
                ("Message", field("message")),
            ],
            "no errors in the last 24 hours",
        ),
        table(
            "Workflow failures (7 days)",
            data["failures"],
            [
                ("Started (UTC)", field("started_at")),
                ("Workflow", field("workflow_name")),
                ("Execution", field("execution_id")),
                ("Status", status("status")),
                ("Error", field("error_message")),
            ],
            "no failed workflow executions in the last 7 days",
        ),
        table(
            "Sync runs",
            data["runs"],
            [
                ("Started (UTC)", field("started_at")),
                ("Business", field("business_id")),
                ("Entity", field("entity")),
                ("Status", status("status")),
                ("Fetched", field("fetched")),
                ("Written", field("written")),
                ("Failed", field("failed")),
                ("Error", field("error_message")),
            ],
            "no sync has run yet",
        ),
        table(
            "API performance (24 h)",
            data["apis"],
            [
                ("Service", field("service")),
                ("Endpoint", field("endpoint")),
                ("Calls", field("total_calls")),
                ("Errors", field("error_count")),
                ("Avg ms", field("avg_duration_ms")),
                ("p95 ms", field("p95_duration_ms")),
            ],
            "no API calls in the last 24 hours",
        ),
    ]
    inbox_line = ", ".join(f"{escape(k)} {int(v)}" for k, v in inbox.items())
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f'<meta http-equiv="refresh" content="{REFRESH_SECONDS}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Master-Ops: {escape(overall)}</title><style>{STYLE}</style></head><body>"
        f'<h1>Master-Ops <span class="badge {escape(overall)}">{escape(overall)}</span></h1>'
        f'<p class="muted">{escape(_text(data["now"]))} UTC, refreshes every '
        f"{REFRESH_SECONDS} s. Webhook inbox: {inbox_line}. "
        '<a href="/api/v1/health">JSON API</a> · <a href="/metrics">metrics</a> · '
        f"masterops {escape(__version__)}</p>"
        + _signout(signout_csrf)
        + "".join(sections)
        + "</body></html>"
    )


def _signout(csrf: str | None) -> str:
    if csrf is None:
        return ""
    return (
        '<form method="post" action="/signout">'
        f'<input type="hidden" name="csrf" value="{escape(csrf)}">'
        '<button type="submit">Sign out</button></form>'
    )


async def dashboard(request: Request) -> Response:
    """The page, for a signed-in session (or a bearer token); else the sign-in form."""
    try:
        grant = await authenticate(request)
    except BadRequest as exc:
        if exc.status == 401:
            return RedirectResponse("/signin", status_code=303)
        raise
    require_every_business(grant, "the dashboard")
    sessions: SessionStore = request.app.state.sessions
    session = sessions.get(request.cookies.get(SESSION_COOKIE))

    def read() -> dict[str, Any]:
        with request.app.state.engine.connect() as conn:
            return collect(conn)

    data = await run_in_threadpool(read)
    return HTMLResponse(render(data, session.csrf if session is not None else None))
