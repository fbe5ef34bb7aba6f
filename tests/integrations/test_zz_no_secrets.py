"""After every connector test in this folder: no credential reached a log or metric row."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from masterops.db.tables import api_metrics, integration_logs
from masterops_sandbox.accounts import sandbox_accounts


def _secrets() -> set[str]:
    found: set[str] = set()
    for seed in range(0, 3):
        for account in sandbox_accounts(seed).values():
            found |= {
                account.hubspot_token,
                account.hubspot_client_secret,
                account.unleashed_api_key,
                account.n8n_api_key,
            }
    return found


def test_no_secret_in_any_log_or_metric_row(telemetry_store) -> None:  # type: ignore[no-untyped-def]
    assert telemetry_store.sink.flush()
    with telemetry_store.engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(select(integration_logs))]
        rows += [dict(r._mapping) for r in conn.execute(select(api_metrics))]
    if not rows:
        pytest.skip("no connector test wrote telemetry in this run")
    text = json.dumps(rows, default=str)
    leaked = sorted(s for s in _secrets() if s in text)
    assert leaked == [], f"secrets found in telemetry rows: {len(leaked)}"
