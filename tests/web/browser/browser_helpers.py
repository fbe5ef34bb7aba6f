"""What the browser tests and tools/screenshots.py share: finding Chromium, and ``ops
serve --run-jobs`` in its own process on a free loopback port (imported by name)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine

from loopback_ports import free_port_block

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")


def chromium_path() -> str | None:
    for candidate in (os.environ.get("MASTEROPS_CHROMIUM"), *CHROMIUM_CANDIDATES):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("chromium")


@dataclass
class Served:
    """An ``ops serve`` process: its base URL and the database it serves."""

    base: str
    engine: Engine
    proc: subprocess.Popen[bytes]

    def url(self, path: str) -> str:
        return self.base + path


def dbos_schema(database_url: str) -> str | None:
    """The DBOS system schema of a test PostgreSQL schema (operations.jobs names it)."""
    from sqlalchemy.engine import make_url

    from masterops.operations.jobs import _search_path_schema

    parsed = make_url(database_url)
    if parsed.get_backend_name() != "postgresql":
        return None
    schema = _search_path_schema(parsed.query.get("options"))
    return f"{schema}_dbos" if schema else None


def start_serve(database_url: str, home: Path, *extra: str) -> tuple[str, subprocess.Popen[bytes]]:
    """``ops serve --run-jobs`` on a free port, answering; returns (base URL, process)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MASTEROPS_")}
    env["MASTEROPS_DATABASE_URL"] = database_url
    env["MASTEROPS_HOME"] = str(home)
    port = free_port_block()
    base = f"http://127.0.0.1:{port}"
    home.mkdir(parents=True, exist_ok=True)
    log = (home / "serve.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "masterops", "serve", "--port", str(port), "--run-jobs", *extra],
        cwd=home,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 120  # start-up allowance on a loaded machine
    while True:
        if proc.poll() is not None:
            raise AssertionError(
                f"ops serve exited with {proc.returncode}: {(home / 'serve.log').read_text()}"
            )
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("ops serve never answered /readyz")
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return base, proc
        except httpx.TransportError:
            pass
        time.sleep(0.2)


def stop_serve(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Problems:
    """Console errors and page errors seen by one page (a CSP violation is one)."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def watch(self, page: Any) -> None:
        page.on(
            "console",
            lambda msg: (
                self.seen.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None
            ),
        )
        page.on("pageerror", lambda exc: self.seen.append(f"page error: {exc}"))
