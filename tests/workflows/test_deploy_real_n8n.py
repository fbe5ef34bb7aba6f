"""Deploy and diff against a REAL n8n: what the sandbox tests prove, checked on the thing
itself (the server may normalise what it stores; a deploy must still be idempotent).

Runs only when ``MASTEROPS_N8N_URL`` and ``MASTEROPS_N8N_API_KEY`` are set. The library is
deployed under unique names and webhook paths, and everything created (workflows, new
tags) is deleted afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator

import pytest
from workflows_helpers import LIBRARY

from masterops.integrations.base import ConnectorRuntime, RetryPolicy
from masterops.integrations.n8n import N8nConnector
from masterops.workflows import deploy, diff_library, load_library
from masterops.workflows.library import WEBHOOK_TYPE, WorkflowDefinition
from masterops.workflows.remote import all_workflows

REAL_URL = os.environ.get("MASTEROPS_N8N_URL", "")
REAL_KEY = os.environ.get("MASTEROPS_N8N_API_KEY", "")

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
        for wf in await all_workflows(connector):
            if "[mo-test-" in wf.name:
                await connector.delete_workflow(wf.id)
        async for tag in connector.list_tags():
            if tag.id not in tags_before:
                await connector.delete_tag(tag.id)


def _unique(definitions: list[WorkflowDefinition]) -> list[WorkflowDefinition]:
    token = uuid.uuid4().hex[:8]
    for d in definitions:
        d.name = f"{d.name} [mo-test-{token}]"
        for node in d.nodes:
            if node["type"] == WEBHOOK_TYPE:
                node["webhookId"] = str(uuid.uuid4())
                node["parameters"]["path"] = f"mo-test-{token}/{node['parameters']['path']}"
    return definitions


async def test_the_library_deploys_idempotently_on_a_real_n8n(real: N8nConnector) -> None:
    definitions = _unique(load_library([LIBRARY]))
    first = await deploy(real, definitions, activate=True)
    assert {r.status for r in first} == {"created"}
    assert all(r.ok for r in first), [r.error for r in first]
    second = await deploy(real, definitions, activate=True)
    assert {r.status for r in second} == {"unchanged"}, [r.changes for r in second]
    diffs = diff_library(definitions, await all_workflows(real), orphans=False)
    assert {d.status for d in diffs} == {"in sync"}, [d.changes for d in diffs]

    definitions[1].nodes[-1]["parameters"]["url"] += "?v=2"
    third = {r.name: r for r in await deploy(real, definitions)}
    assert third[definitions[1].name].status == "updated"
    diffs = diff_library(definitions, await all_workflows(real), orphans=False)
    assert {d.status for d in diffs} == {"in sync"}, [d.changes for d in diffs]
