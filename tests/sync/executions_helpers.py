"""Helpers of the execution sync tests: an in-process n8n sandbox and its connector."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, select

from masterops.db.tables import sync_runs, workflow_execution_logs
from masterops.integrations.base import BreakerSettings, ConnectorRuntime, RetryPolicy
from masterops.integrations.n8n import N8nConnector
from masterops.observability.events import EventRecorder
from masterops_sandbox.accounts import BUSINESSES, n8n_api_key
from masterops_sandbox.harness import SandboxTransport, ServiceHarness
from masterops_sandbox.n8n import N8nSandbox, build_n8n

BASE_URL = "http://n8n.sandbox"
API_KEY = n8n_api_key(2)
FAST_RETRY = RetryPolicy(max_attempts=3, base_delay=0.001, max_delay=0.005, deadline=30.0)
# Injected faults fail many attempts in a row: the breaker must not turn them into
# "circuit open" before the test looks.
PATIENT_BREAKER = BreakerSettings(failure_threshold=1000)
#: (slug, name) of the four businesses, as the configuration lists them.
CONFIGURED: list[tuple[str, str]] = list(BUSINESSES)
SHORT_NAMES = {"Teelixir": "teelixir", "Elevate": "elevate", "BOO": "boo", "RHF": "rhf"}


@dataclass
class N8nEnv:
    sandbox: N8nSandbox
    harness: ServiceHarness
    runtime: ConnectorRuntime
    recorder: EventRecorder = field(default_factory=EventRecorder)

    def connect(self, business_id: str = "teelixir") -> N8nConnector:
        return N8nConnector(
            business_id=business_id,
            runtime=self.runtime,
            base_url=BASE_URL,
            api_key=API_KEY,
            transport=SandboxTransport(app=self.harness),
            retry=FAST_RETRY,
            breaker=PATIENT_BREAKER,
            per_second=1000,  # the client's bucket would only slow the suite down
        )


def make_env(*, executions: int = 200) -> N8nEnv:
    sandbox, harness = build_n8n(API_KEY, seed=2, executions=executions)
    recorder = EventRecorder()
    runtime = ConnectorRuntime()
    runtime.hub.subscribe(recorder)
    return N8nEnv(sandbox, harness, runtime, recorder)


def stored(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(workflow_execution_logs))]


def stored_by_id(engine: Engine) -> dict[str, dict[str, Any]]:
    rows = stored(engine)
    by_id = {r["execution_id"]: r for r in rows}
    assert len(by_id) == len(rows)  # execution_id is unique: a duplicate cannot hide
    return by_id


def runs(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(sync_runs).order_by(sync_runs.c.id))]


def expected_business(workflow_name: str | None, default: str) -> str:
    """The business a seeded workflow belongs to, from its name's first word."""
    first = (workflow_name or "").split(" ", 1)[0]
    return SHORT_NAMES.get(first, default)


def after_calls(count: int, action: Callable[[], None]) -> Callable[[str, int, int | None], None]:
    """A progress callback that does ``action`` once, after ``count`` pages."""
    pages = 0

    def on_progress(stage: str, done: int, total: int | None) -> None:
        nonlocal pages
        pages += 1
        if pages == count:
            action()

    return on_progress
