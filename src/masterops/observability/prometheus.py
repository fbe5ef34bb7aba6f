"""The Prometheus subscriber: telemetry events as counters and histograms.

Counters only grow (per process, from its start), which is what Prometheus's ``rate()``
and ``increase()`` need; the 24-hour gauges ``/metrics`` reads from the database cannot
serve that. Each ``PrometheusTelemetry`` has its own registry: nothing is registered in
prometheus_client's global one, so two in one process (tests) never collide.
Labels are bounded (service, outcome, source, status, level): never an endpoint, an id
or a message, so a series cannot carry a secret and the count of series stays small.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

from masterops.observability.events import ApiCall, Event, LogEvent

# Seconds; external APIs answer in tens of milliseconds to tens of seconds.
DURATION_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class PrometheusTelemetry:
    """Subscribe it to a ``TelemetryHub``; expose ``registry`` (``/metrics`` does)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.api_calls = Counter(
            "masterops_api_calls",
            "Attempts of calls to external services, by outcome (one per attempt).",
            ["service", "outcome"],
            registry=self.registry,
        )
        self.api_duration = Histogram(
            "masterops_api_call_duration_seconds",
            "Duration of each attempt of a call to an external service.",
            ["service"],
            buckets=DURATION_BUCKETS,
            registry=self.registry,
        )
        self.events = Counter(
            "masterops_integration_events",
            "Retries, failures, breaker transitions and other logged events.",
            ["source", "status", "level"],
            registry=self.registry,
        )

    def __call__(self, event: Event) -> None:
        if isinstance(event, ApiCall):
            outcome = "success" if event.success else "failure"
            self.api_calls.labels(event.service, outcome).inc()
            self.api_duration.labels(event.service).observe(event.duration_ms / 1000)
        elif isinstance(event, LogEvent):
            self.events.labels(event.source, event.status or "", event.level).inc()
