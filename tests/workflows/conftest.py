"""Fixtures for the workflow library tests: the shipped library copied somewhere editable,
an in-process n8n sandbox with a connector, and a sandbox served on loopback for the CLI
(each `ops` call on the in-process default starts a fresh sandbox, so anything that must
see a previous call's writes talks to a served one)."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from workflows_helpers import LIBRARY

from masterops.integrations.base import ConnectorRuntime, RetryPolicy
from masterops.integrations.n8n import N8nConnector
from masterops_sandbox.harness import SandboxTransport, ServiceHarness
from masterops_sandbox.n8n import N8nSandbox, build_n8n
from masterops_sandbox.server import Sandbox

API_KEY = "n8n-test-key"
# No waiting between attempts: a test never needs a retry to be slow.
NO_RETRY = RetryPolicy(max_attempts=1)


@pytest.fixture
def library(tmp_path: Path) -> Path:
    """A copy of infra/n8n-workflows a test may edit."""
    target = tmp_path / "library"
    shutil.copytree(LIBRARY, target, ignore=shutil.ignore_patterns("*.md"))
    return target


@pytest.fixture
def n8n_sandbox() -> tuple[N8nSandbox, ServiceHarness]:
    """A fresh, seeded in-process n8n sandbox: its handle and the app serving it."""
    return build_n8n(API_KEY, seed=3, executions=150)


@pytest.fixture
async def n8n(n8n_sandbox: tuple[N8nSandbox, ServiceHarness]) -> AsyncIterator[N8nConnector]:
    """A connector on ``n8n_sandbox``."""
    _sandbox, harness = n8n_sandbox
    connector = N8nConnector(
        business_id="teelixir",
        runtime=ConnectorRuntime(),
        base_url="http://n8n.test",
        api_key=API_KEY,
        transport=SandboxTransport(app=harness),
        retry=NO_RETRY,
    )
    async with connector:
        yield connector


@pytest.fixture
def served_n8n(ops, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:  # type: ignore[no-untyped-def]
    """A sandbox on loopback that `ops` is configured to use for n8n (after the `ops`
    fixture cleared the environment)."""
    box = Sandbox(seed=0, volume=10, n8n_executions=60)
    urls = box.start_in_thread(port=0)
    monkeypatch.setenv("MASTEROPS_N8N_URL", urls["n8n"])
    monkeypatch.setenv("MASTEROPS_N8N_API_KEY", box.n8n_api_key)
    yield box
    box.stop()
