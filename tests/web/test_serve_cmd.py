"""``ops serve`` in a real process: it answers on a loopback port and stops on SIGINT."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy import Engine
from web_helpers import bearer, make_token


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_up(url: str, proc: subprocess.Popen[bytes]) -> httpx.Response:
    # A generous start-up allowance for slow CI machines; not an assertion about speed.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"ops serve exited early with {proc.returncode}")
        try:
            return httpx.get(url, timeout=2)
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("ops serve never answered")


def test_ops_serve_answers_and_stops_on_sigint(engine: Engine, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MASTEROPS_")}
    env["MASTEROPS_DATABASE_URL"] = engine.url.render_as_string(hide_password=False)
    # A client secret without its token is ignored: the operator is told so at start-up.
    env["MASTEROPS_TEELIXIR_HUBSPOT_CLIENT_SECRET"] = "whsec-teelixir-1"
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "masterops", "serve", "--port", str(port), "--no-access-log"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert _wait_until_up(f"http://127.0.0.1:{port}/healthz", proc).status_code == 200
        assert httpx.get(f"http://127.0.0.1:{port}/readyz").json() == {"status": "ready"}
        assert httpx.get(f"http://127.0.0.1:{port}/api/v1/health").status_code == 401
        auth = bearer(make_token(engine, "read"))
        answer = httpx.get(f"http://127.0.0.1:{port}/api/v1/health", headers=auth)
        assert answer.status_code == 200
        assert answer.json() == {"overall": "unknown", "services": []}
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", headers=auth)
        assert metrics.status_code == 200
        # The process's own families are exported, not only the database's gauges.
        assert "# TYPE masterops_breaker_state gauge" in metrics.text
        assert "# TYPE masterops_api_calls_total counter" in metrics.text
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, stderr.decode()
    assert f"serving on http://127.0.0.1:{port}/" in stderr.decode()
    assert (
        "warning: MASTEROPS_TEELIXIR_HUBSPOT_CLIENT_SECRET set but "
        "MASTEROPS_TEELIXIR_HUBSPOT_TOKEN is not"
    ) in stderr.decode()
    assert "whsec-teelixir-1" not in stderr.decode()


def test_a_port_in_use_is_one_line_before_the_banner(ops) -> None:  # type: ignore[no-untyped-def]
    port = _free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        result = ops("serve", "--port", str(port))
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"error: cannot listen on 127.0.0.1:{port}: address already in use; choose another --port"
    )
    assert result.stdout == ""


def test_a_public_host_needs_a_token_first(ops) -> None:  # type: ignore[no-untyped-def]
    result = ops("serve", "--host", "0.0.0.0", "--port", str(_free_port()))
    assert result.exit_code == 1
    assert "no API token exists yet" in result.stderr
    assert "ops tokens create" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
