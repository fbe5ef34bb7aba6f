"""An answer the caller expects (the 404 of "does this property exist?") is an outcome,
not an error: ``api_metrics``, ``ops stats`` (the summaries) and ``/metrics`` do not count it,
while the same 404 where nobody expected it still counts, on every database backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from sqlalchemy import Engine, select

from masterops.db.summaries import run_summary
from masterops.db.tables import api_metrics, integration_logs
from masterops.integrations.base import ConnectorRuntime, IntegrationError
from masterops.integrations.hubspot import HubSpotConnector
from masterops.observability.db_sink import DatabaseSink
from masterops.observability.prometheus import PrometheusTelemetry
from masterops.web.metrics import PlatformCollector
from masterops_sandbox.accounts import sandbox_accounts
from masterops_sandbox.harness import SandboxTransport
from masterops_sandbox.hubspot import build_hubspot

BUSINESS = "teelixir"
PROPERTY_TEMPLATE = "/crm/v3/properties/{type}/{name}"


async def test_expected_404_of_a_property_check_is_not_an_api_error(engine: Engine) -> None:
    accounts = sandbox_accounts(0)
    sandbox, harness = build_hubspot(accounts)
    runtime = ConnectorRuntime()
    sink = DatabaseSink(engine, flush_interval=0.05)
    runtime.hub.subscribe(sink)
    prometheus = PrometheusTelemetry()
    runtime.hub.subscribe(prometheus)
    hubspot = HubSpotConnector(
        business_id=BUSINESS,
        runtime=runtime,
        token=accounts[BUSINESS].hubspot_token,
        transport=SandboxTransport(app=harness),
    )
    try:
        # Looks (404, expected), then creates: a clean setup with no error in it.
        await hubspot.ensure_property("deals", "order_guid", label="Order GUID", unique=True)
        # The same 404 where the caller did not expect it is still an error.
        with pytest.raises(IntegrationError):
            await hubspot.get_property("deals", "no_such_property")
    finally:
        await hubspot.aclose()
        await sandbox.aclose()
        sink.close()

    with engine.connect() as conn:
        rows = conn.execute(
            select(api_metrics.c.status_code, api_metrics.c.success, api_metrics.c.operation)
            .where(api_metrics.c.endpoint == PROPERTY_TEMPLATE)
            .order_by(api_metrics.c.id)
        ).all()
        summary = {
            (r["service"], r["endpoint"]): r
            for r in run_summary(conn, "api_performance_summary", datetime.now(UTC) - timedelta(1))
        }
        levels = list(
            conn.execute(
                select(integration_logs.c.level).where(
                    integration_logs.c.operation == "get_property"
                )
            ).scalars()
        )
    gauges = CollectorRegistry(auto_describe=False)
    gauges.register(PlatformCollector(engine, None))
    exposition = (generate_latest(gauges) + generate_latest(prometheus.registry)).decode()

    assert [(status, bool(ok)) for status, ok, _ in rows] == [(404, True), (404, False)]
    assert summary[("hubspot", PROPERTY_TEMPLATE)]["total_calls"] == 2
    assert summary[("hubspot", PROPERTY_TEMPLATE)]["error_count"] == 1
    assert sorted(levels) == ["debug", "error"]
    # Both /metrics families count one error: the database gauge and the live counter.
    assert 'masterops_api_errors_24h{service="hubspot"} 1.0\n' in exposition
    assert 'masterops_api_calls_total{outcome="failure",service="hubspot"} 1.0\n' in exposition
    assert 'masterops_api_calls_total{outcome="success",service="hubspot"} 2.0\n' in exposition
