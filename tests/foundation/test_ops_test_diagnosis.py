"""``ops test`` against a service that does not answer: it stops at the first failure.

A diagnosis makes one attempt per call under a short deadline from ``[limits]
diagnosis_timeout_s``, does not wait for a circuit breaker, and reports the steps after the
first failure as skipped with that failure as the cause. Nothing here measures time: the
tests count what the far end (or the ``api_metrics`` telemetry) saw.
"""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from masterops.db.engine import create_db_engine
from masterops.db.tables import api_metrics
from masterops_sandbox.server import Sandbox

HUBSPOT_STEPS = ["health probe", "list contacts", "list contact properties"]


class SilentPort:
    """A loopback port that accepts connections, counts them and never answers."""

    def __init__(self) -> None:
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self.accepted = 0
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return  # closed
            self.accepted += 1
            self._held.append(conn)

    def close(self) -> None:
        self._server.close()
        for conn in self._held:
            conn.close()


@pytest.fixture
def silent_port() -> Iterator[SilentPort]:
    port = SilentPort()
    yield port
    port.close()


def _closed_port() -> int:
    """A loopback port with nothing listening (bound, never listened on, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _diagnosis_timeout(seconds: float) -> None:
    Path("masterops.toml").write_text(f"[limits]\ndiagnosis_timeout_s = {seconds}\n")


def _hubspot_at(
    monkeypatch: pytest.MonkeyPatch, url: str, token: str = "pat-na1-diag-0000"
) -> None:
    monkeypatch.setenv("MASTEROPS_TEELIXIR_HUBSPOT_TOKEN", token)
    monkeypatch.setenv("MASTEROPS_TEELIXIR_HUBSPOT_URL", url)


def _attempts_recorded(database_url: str, service: str) -> int:
    engine = create_db_engine(database_url)
    try:
        with engine.connect() as conn:
            count = conn.scalar(
                select(func.count())
                .select_from(api_metrics)
                .where(api_metrics.c.service == service)
            )
        return int(count or 0)
    finally:
        engine.dispose()


def _assert_stopped_at_probe(report: dict, category: str) -> None:  # type: ignore[type-arg]
    assert [s["name"] for s in report["steps"]] == HUBSPOT_STEPS
    probe, *rest = report["steps"]
    assert not probe["ok"] and probe["error"]["category"] == category
    assert probe["skipped"] is None
    for step in rest:
        assert not step["ok"] and step["error"] is None
        assert step["skipped"] == f"health probe failed ({category})"
        assert step["summary"].startswith("skipped: health probe failed")


def test_ops_test_stops_at_the_first_failure_on_a_closed_port(  # type: ignore[no-untyped-def]
    ops, database, monkeypatch
) -> None:
    _diagnosis_timeout(3.0)
    _hubspot_at(monkeypatch, f"http://127.0.0.1:{_closed_port()}")
    result = ops("test", "hubspot", "-b", "teelixir", "--json")
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1] == "error: hubspot failed for teelixir"
    [report] = json.loads(result.stdout)
    assert report["deadline_s"] == 3.0
    _assert_stopped_at_probe(report, "NETWORK")
    assert "could not connect" in report["steps"][0]["summary"]
    # one attempt, no retry, no breaker wait: the service saw one connection attempt
    assert _attempts_recorded(database.url, "hubspot") == 1
    assert "circuit breaker" not in result.stdout + result.stderr


def test_ops_test_gives_up_on_a_silent_port_at_its_deadline(  # type: ignore[no-untyped-def]
    ops, silent_port, monkeypatch
) -> None:
    _diagnosis_timeout(0.5)
    _hubspot_at(monkeypatch, f"http://127.0.0.1:{silent_port.port}")
    result = ops("test", "hubspot", "-b", "teelixir")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    probe = next(line for line in lines if "health probe" in line)
    assert "FAIL" in probe
    # The attempt's limit is what is left of the 0.5 s deadline when it starts: 0.5 on an
    # idle machine, a hair less on a busy one; never more.
    within = re.search(r"within (\d+(?:\.\d+)?) s", probe)
    assert within is not None and 0.3 <= float(within.group(1)) <= 0.5, probe
    skipped = [line for line in lines if "skipped: health probe failed (TIMEOUT)" in line]
    assert len(skipped) == 2
    assert silent_port.accepted == 1


@pytest.fixture(scope="module")
def served() -> Iterator[Sandbox]:
    box = Sandbox(seed=0, volume=20)
    box.start_in_thread(port=0)
    yield box
    box.stop()


def test_ops_test_makes_one_call_to_a_failing_service(  # type: ignore[no-untyped-def]
    ops, served, monkeypatch
) -> None:
    hubspot = served.harness("hubspot")
    hubspot.reset_calls()
    hubspot.faults.configure(rate_5xx=1.0, status_5xx=503)
    try:
        _hubspot_at(monkeypatch, served.urls["hubspot"], served.accounts["teelixir"].hubspot_token)
        result = ops("test", "hubspot", "-b", "teelixir", "--json")
    finally:
        hubspot.faults.reset()
    assert result.exit_code == 1
    [report] = json.loads(result.stdout)
    _assert_stopped_at_probe(report, "SERVER")
    assert hubspot.call_count() == 1


def test_ops_test_a_later_step_failing_is_reported_with_its_cause(  # type: ignore[no-untyped-def]
    ops, served, monkeypatch
) -> None:
    hubspot = served.harness("hubspot")
    hubspot.reset_calls()
    # only the properties endpoint fails: the probe and the contacts page still work
    hubspot.faults.configure(rate_5xx=1.0, path_pattern="/properties/")
    try:
        _hubspot_at(monkeypatch, served.urls["hubspot"], served.accounts["teelixir"].hubspot_token)
        result = ops("test", "hubspot", "-b", "teelixir", "--json")
    finally:
        hubspot.faults.reset()
    [report] = json.loads(result.stdout)
    assert [s["ok"] for s in report["steps"]] == [True, True, False]
    assert report["steps"][2]["error"]["category"] == "SERVER"
    assert hubspot.call_count() == 3  # one call per step, the failing one not retried
