"""``GET /metrics``: the platform in the Prometheus text format (version 0.0.4), through
prometheus_client.

Two kinds of families. Gauges read from the database at scrape time (calls and errors
in the last 24 hours, the latest health check, the webhook inbox), so any number of
``ops serve`` processes report the same figures. And this process's own: the breaker
state of every (service, account) it holds, and the counters and histograms its
telemetry subscriber (``observability.prometheus``) feeds, which only grow, so that
Prometheus can take ``rate()``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.registry import Collector
from sqlalchemy import Connection, Engine, case, func, select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from masterops.db.tables import api_metrics
from masterops.integrations.base import SEVERITY, BreakerRegistry, BreakerState
from masterops.web.inbox import status_counts
from masterops.web.readings import latest_health

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
BREAKER_VALUES = {"closed": 0, "half_open": 1, "open": 2}


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


def database_gauges(conn: Connection) -> list[Metric]:
    """The families read from the database."""
    calls = _api_calls(conn, datetime.now(UTC) - timedelta(hours=24))
    api_calls = GaugeMetricFamily(
        "masterops_api_calls_24h",
        "Calls to each external service in the last 24 hours (one per attempt).",
        labels=["service"],
    )
    api_errors = GaugeMetricFamily(
        "masterops_api_errors_24h",
        "Failed calls to each external service in the last 24 hours.",
        labels=["service"],
    )
    for service, n, errors in calls:
        api_calls.add_metric([service], n)
        api_errors.add_metric([service], errors)
    checks = [r for r in latest_health(conn) if r["status"] in SEVERITY]
    status = GaugeMetricFamily(
        "masterops_health_status",
        "Latest health check per business and service: 0 healthy, 1 degraded, 2 down.",
        labels=["business", "service"],
    )
    checked = GaugeMetricFamily(
        "masterops_health_checked_timestamp_seconds",
        "When each business and service was last checked (Unix time).",
        labels=["business", "service"],
    )
    for r in checks:
        status.add_metric([r["business_id"], r["service"]], SEVERITY[r["status"]])
        checked.add_metric([r["business_id"], r["service"]], r["checked_at"].timestamp())
    counts = status_counts(conn)
    pending = GaugeMetricFamily(
        "masterops_webhook_inbox_pending",
        "Webhook events received and not yet processed.",
        value=counts["pending"],
    )
    inbox = GaugeMetricFamily(
        "masterops_webhook_inbox_events",
        "Webhook events in the inbox by status.",
        labels=["status"],
    )
    for inbox_status, n in counts.items():
        inbox.add_metric([inbox_status], n)
    return [api_calls, api_errors, status, checked, pending, inbox]


def breaker_gauge(states: Iterable[BreakerState]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(
        "masterops_breaker_state",
        "Circuit breaker per service and account: 0 closed, 1 half-open, 2 open.",
        labels=["service", "account"],
    )
    for b in states:
        family.add_metric([b.service, b.account], BREAKER_VALUES[b.state])
    return family


class PlatformCollector(Collector):
    """What one scrape reads: the database's gauges, and the breakers when given."""

    def __init__(self, engine: Engine, breakers: BreakerRegistry | None) -> None:
        self.engine = engine
        self.breakers = breakers

    def collect(self) -> Iterator[Metric]:
        with self.engine.connect() as conn:
            yield from database_gauges(conn)
        if self.breakers is not None:
            yield breaker_gauge(self.breakers.states())


async def metrics(request: Request) -> Response:
    settings = request.app.state.settings
    registry = CollectorRegistry(auto_describe=False)
    registry.register(PlatformCollector(request.app.state.engine, settings.breakers))

    def read() -> bytes:
        text = generate_latest(registry)
        if settings.telemetry is not None:
            text += generate_latest(settings.telemetry.registry)
        return text

    return Response(await run_in_threadpool(read), media_type=CONTENT_TYPE)
