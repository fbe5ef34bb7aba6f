"""``ops sandbox`` serves the three services on loopback until interrupted."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

from loopback_ports import free_port_block
from masterops_sandbox.accounts import sandbox_accounts


def test_serves_and_prints_credentials(tmp_path) -> None:  # type: ignore[no-untyped-def]
    port = free_port_block()
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


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--faults", "hubspot:rate_429=2"], "--faults:"),
        (["--faults", "shopify:rate_429=0.1"], "--faults:"),
        (["--host", "0.0.0.0"], "--host must be a loopback address"),
        (["--port", "0"], "--port must be between"),
    ],
)
def test_bad_flags_are_one_line(ops_cli, args, message) -> None:  # type: ignore[no-untyped-def]
    result = ops_cli("sandbox", *args)
    assert result.exit_code == 2, (args, result.stderr)
    assert message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_port_in_use_is_one_line_before_any_credential(ops_cli) -> None:  # type: ignore[no-untyped-def]
    port = free_port_block()
    with socket.socket() as taken:  # n8n's port, the last of the three, is in use
        taken.bind(("127.0.0.1", port + 2))
        taken.listen()
        result = ops_cli("sandbox", "--port", str(port))
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"error: cannot listen on 127.0.0.1:{port + 2}: address already in use; "
        "choose another --port (the sandbox takes it and the next two)"
    )
    assert result.stdout == ""  # no banner, no credentials


def _serve(tmp_path, *args: str) -> subprocess.Popen[str]:  # type: ignore[no-untyped-def]
    return subprocess.Popen(
        [sys.executable, "-m", "masterops", "sandbox", *args],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_until_served(url: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"{url}/healthz", timeout=2)
            return
        except httpx.TransportError:
            assert time.monotonic() < deadline, "the sandbox never answered"
            time.sleep(0.2)


def _stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=20)
    stderr = proc.stderr.read() if proc.stderr else ""
    assert "Traceback" not in stderr
    return stderr


def test_env_file_is_all_ops_needs(tmp_path) -> None:  # type: ignore[no-untyped-def]
    port = free_port_block()
    env_file = tmp_path / "sandbox.env"
    proc = _serve(tmp_path, "--port", str(port), "--env", str(env_file))
    try:
        _wait_until_served(f"http://127.0.0.1:{port + 2}")
        names = [line.split("=", 1)[0] for line in env_file.read_text().splitlines()]
        assert len(names) == 4 * 8 + 2 and "MASTEROPS_N8N_API_KEY" in names
        assert env_file.stat().st_mode & 0o777 == 0o600  # it holds tokens
        work = tmp_path / "elsewhere"
        work.mkdir()
        clean = {k: v for k, v in os.environ.items() if not k.startswith("MASTEROPS_")}
        result = subprocess.run(
            [
                "bash",
                "-c",
                f"set -a; . {env_file}; set +a; "
                f"exec {sys.executable} -m masterops test hubspot --json",
            ],
            cwd=work,
            env=clean,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        reports = json.loads(result.stdout)
        assert {r["business_id"] for r in reports if r["ok"]} == {
            "teelixir",
            "elevate",
            "boo",
            "rhf",
        }
    finally:
        _stop(proc)


def test_env_dash_prints_export_lines(tmp_path) -> None:  # type: ignore[no-untyped-def]
    port = free_port_block()
    proc = _serve(tmp_path, "--port", str(port), "--env", "-")
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("export MASTEROPS_TEELIXIR_HUBSPOT_TOKEN=pat-na1-")
        _wait_until_served(f"http://127.0.0.1:{port + 2}")  # Ctrl-C once it serves
    finally:
        _stop(proc)


def test_state_folder_keeps_changes_across_restarts(tmp_path) -> None:  # type: ignore[no-untyped-def]
    port = free_port_block()
    state = tmp_path / "state"
    token = sandbox_accounts(0)["teelixir"].hubspot_token
    headers = {"Authorization": f"Bearer {token}"}
    url = f"http://127.0.0.1:{port}/crm/v3/objects/contacts"
    proc = _serve(tmp_path, "--port", str(port), "--state", str(state), "--json")
    try:
        _wait_until_served(f"http://127.0.0.1:{port + 2}")
        made = httpx.post(url, json={"properties": {"email": "kept@example.com"}}, headers=headers)
        assert made.status_code == 201, made.text
    finally:
        _stop(proc)
    proc = _serve(tmp_path, "--port", str(port), "--state", str(state), "--json")
    try:
        _wait_until_served(f"http://127.0.0.1:{port + 2}")
        listed = httpx.get(url, params={"properties": "email"}, headers=headers).json()
        assert [r["properties"]["email"] for r in listed["results"]] == ["kept@example.com"]
    finally:
        _stop(proc)
