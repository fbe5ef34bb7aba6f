"""Deploy and diff against a REAL n8n: what the sandbox tests prove, checked on the thing
itself (the server may normalise what it stores; a deploy must still be idempotent).

Runs only when ``MASTEROPS_N8N_URL`` and ``MASTEROPS_N8N_API_KEY`` are set. The library is
deployed under unique names and webhook paths, and everything created (workflows, new
tags, the platform credential) is deleted afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator

import pytest
from workflows_helpers import LIBRARY, unique_names

from masterops.integrations.base import ConnectorRuntime, RetryPolicy
from masterops.integrations.n8n import N8nConnector
from masterops.workflows import PlatformAccess, bound_for_diff, deploy, diff_library, load_library
from masterops.workflows.deploy import credential_on_server
from masterops.workflows.remote import all_workflows

REAL_URL = os.environ.get("MASTEROPS_N8N_URL", "")
REAL_KEY = os.environ.get("MASTEROPS_N8N_API_KEY", "")
PLATFORM_URL = "http://127.0.0.1:9"  # never called: nothing is triggered here

pytestmark = [
    pytest.mark.real_n8n,
    pytest.mark.skipif(
        not (REAL_URL and REAL_KEY),
        reason="set MASTEROPS_N8N_URL and MASTEROPS_N8N_API_KEY to run against a real n8n",
    ),
]


@pytest.fixture
async def real() -> AsyncIterator[N8nConnector]:
    connector = N8nConnector(
        business_id="teelixir",
        runtime=ConnectorRuntime(),
        base_url=REAL_URL,
        api_key=REAL_KEY,
        retry=RetryPolicy(max_attempts=3, base_delay=0.05, max_delay=0.2, deadline=30.0),
    )
    async with connector:
        tags_before = {t.id async for t in connector.list_tags()}
        yield connector
        ours = [wf for wf in await all_workflows(connector) if "[mo-test-" in wf.name]
        credential = credential_on_server(ours)
        for wf in ours:
            await connector.delete_workflow(wf.id)
        if credential is not None:
            await connector.delete_credential(credential)
        async for tag in connector.list_tags():
            if tag.id not in tags_before:
                await connector.delete_tag(tag.id)


async def test_the_library_deploys_idempotently_on_a_real_n8n(real: N8nConnector) -> None:
    definitions = unique_names(load_library([LIBRARY]), uuid.uuid4().hex[:8])
    platform = PlatformAccess(PLATFORM_URL, lambda: "mo_not_a_real_token")
    first = await deploy(real, definitions, activate=True, platform=platform)
    assert {r.status for r in first} == {"created"}
    assert all(r.ok for r in first), [r.error for r in first]
    second = await deploy(real, definitions, activate=True, platform=platform)
    assert {r.status for r in second} == {"unchanged"}, [r.changes for r in second]
    server = await all_workflows(real)
    diffs = diff_library(bound_for_diff(definitions, server, PLATFORM_URL), server, orphans=False)
    assert {d.status for d in diffs} == {"in sync"}, [d.changes for d in diffs]

    [monitor] = [d for d in definitions if d.name.startswith("Master-Ops health monitor")]
    [call] = [n for n in monitor.nodes if n["name"] == "Run a health round"]
    call["parameters"]["url"] += "?v=2"
    third = {r.name: r for r in await deploy(real, definitions, platform=platform)}
    assert third[monitor.name].status == "updated"
    assert {r.status for r in third.values()} == {"updated", "unchanged"}
    server = await all_workflows(real)
    diffs = diff_library(bound_for_diff(definitions, server, PLATFORM_URL), server, orphans=False)
    assert {d.status for d in diffs} == {"in sync"}, [d.changes for d in diffs]
