"""``GET /metrics``: the platform's state in the Prometheus text format (version 0.0.4).

Written by hand: the format is a few lines of text and prometheus-client is not a
dependency. Every value is read from the database at scrape time, so any number of
``ops serve`` processes report the same figures; breaker states are per process and
appear only when the app was given a runtime's breaker registry.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, case, func, select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from masterops.db.tables import api_metrics
from masterops.integrations.base import BreakerState
from masterops.web.inbox import status_counts
from masterops.web.readings import SEVERITY, latest_health

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
BREAKER_VALUES = {"closed": 0, "half_open": 1, "open": 2}

Labels = Mapping[str, str]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    number = float(value)
    return str(int(number)) if number.is_integer() else repr(number)


class Exposition:
    """Builds the text: one ``# HELP`` and ``# TYPE`` before each family's samples."""

    def __init__(self) -> None:
        self._lines: list[str] = []

    def family(
        self, name: str, kind: str, help_text: str, samples: Iterable[tuple[Labels, float]]
    ) -> None:
        self._lines.append(f"# HELP {name} {help_text}")
        self._lines.append(f"# TYPE {name} {kind}")
        for labels, value in samples:
            rendered = ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items())
            series = f"{name}{{{rendered}}}" if rendered else name
            self._lines.append(f"{series} {_number(value)}")

    def text(self) -> str:
        return "\n".join(self._lines) + "\n"


def _api_calls(conn: Connection, since: datetime) -> list[tuple[str, int, int]]:
    t = api_metrics
    errors = func.sum(case((t.c.success, 0), else_=1))
    stmt = (
        select(t.c.service, func.count(), errors)
        .where(t.c.created_at >= since)
        .group_by(t.c.service)
        .order_by(t.c.service)
    )
    return [(str(s), int(n), int(e or 0)) for s, n, e in conn.execute(stmt)]


def render_metrics(conn: Connection, breakers: Iterable[BreakerState] = ()) -> str:
    """The whole exposition, read from ``conn``."""
    out = Exposition()
    calls = _api_calls(conn, datetime.now(UTC) - timedelta(hours=24))
    out.family(
        "masterops_api_calls_24h",
        "gauge",
        "Calls to each external service in the last 24 hours (one per attempt).",
        (({"service": s}, n) for s, n, _ in calls),
    )
    out.family(
        "masterops_api_errors_24h",
        "gauge",
        "Failed calls to each external service in the last 24 hours.",
        (({"service": s}, e) for s, _, e in calls),
    )
    checks = [r for r in latest_health(conn) if r["status"] in SEVERITY]
    out.family(
        "masterops_health_status",
        "gauge",
        "Latest health check per business and service: 0 healthy, 1 degraded, 2 down.",
        (
            ({"business": r["business_id"], "service": r["service"]}, SEVERITY[r["status"]])
            for r in checks
        ),
    )
    out.family(
        "masterops_health_checked_timestamp_seconds",
        "gauge",
        "When each business and service was last checked (Unix time).",
        (
            ({"business": r["business_id"], "service": r["service"]}, r["checked_at"].timestamp())
            for r in checks
        ),
    )
    counts = status_counts(conn)
    out.family(
        "masterops_webhook_inbox_pending",
        "gauge",
        "Webhook events received and not yet processed.",
        [({}, counts["pending"])],
    )
    out.family(
        "masterops_webhook_inbox_events",
        "gauge",
        "Webhook events in the inbox by status.",
        (({"status": status}, n) for status, n in counts.items()),
    )
    states = list(breakers)
    if states:
        out.family(
            "masterops_breaker_state",
            "gauge",
            "Circuit breaker per service and account: 0 closed, 1 half-open, 2 open.",
            (
                ({"service": b.service, "account": b.account}, BREAKER_VALUES[b.state])
                for b in states
            ),
        )
    return out.text()


async def metrics(request: Request) -> Response:
    registry = request.app.state.settings.breakers
    breakers = registry.states() if registry is not None else []

    def read() -> str:
        with request.app.state.engine.connect() as conn:
            return render_metrics(conn, breakers)

    return Response(await run_in_threadpool(read), media_type=CONTENT_TYPE)
