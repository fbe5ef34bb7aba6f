"""``ops sandbox`` serves the three services on loopback until interrupted."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time

import httpx


def _free_port_block() -> int:
    """A port p such that p, p+1 and p+2 are free right now."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port > 65000:
            continue
        ok = True
        for offset in (1, 2):
            with socket.socket() as probe:
                try:
                    probe.bind(("127.0.0.1", port + offset))
                except OSError:
                    ok = False
        if ok:
            return int(port)
    raise RuntimeError("no free block of three ports")


def test_serves_and_prints_credentials(tmp_path) -> None:  # type: ignore[no-untyped-def]
    port = _free_port_block()
    proc = subprocess.Popen(
        [sys.executable, "-m", "masterops", "sandbox", "--port", str(port), "--json"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = []
        assert proc.stdout is not None
        while True:
            line = proc.stdout.readline()
            assert line, "ops sandbox ended before printing its description"
            lines.append(line)
            if line.rstrip() == "}":
                break
        info = json.loads("".join(lines))
        assert info["urls"]["n8n"] == f"http://127.0.0.1:{port + 2}"
        teelixir = [r for r in info["credentials"] if r["business"] == "teelixir"]
        token = next(r["value"] for r in teelixir if r["credential"] == "token")
        deadline = time.monotonic() + 20
        while True:
            try:
                answer = httpx.get(
                    f"http://127.0.0.1:{port}/crm/v3/objects/contacts",
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=2,
                )
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the sandbox never answered"
                time.sleep(0.2)
        assert answer.status_code == 200 and answer.json()["results"] == []
        assert httpx.get(f"http://127.0.0.1:{port + 2}/healthz", timeout=2).json() == {
            "status": "ok"
        }
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=20)
    assert "Traceback" not in (proc.stderr.read() if proc.stderr else "")


def test_bad_flags_are_one_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    for args, message in (
        (["--faults", "hubspot:rate_429=2"], "--faults:"),
        (["--faults", "shopify:rate_429=0.1"], "--faults:"),
        (["--host", "0.0.0.0"], "--host must be a loopback address"),
        (["--port", "0"], "--port must be between"),
    ):
        result = subprocess.run(
            [sys.executable, "-m", "masterops", "sandbox", *args],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 2, (args, result.stderr)
        assert message in result.stderr and "Traceback" not in result.stderr
