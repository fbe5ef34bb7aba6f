"""Paging in the n8n sandbox: cursors like the real ones, whole walks, the real quirks."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from masterops_sandbox.harness import SandboxTransport
from masterops_sandbox.n8n import N8nSandbox, build_n8n
from masterops_sandbox.n8n.cursor import (
    InvalidCursor,
    decode_cursor,
    encode_last_id_cursor,
    encode_offset_cursor,
)

KEY = "paging-test-key"


@pytest.fixture
async def built() -> AsyncIterator[tuple[N8nSandbox, httpx.AsyncClient]]:
    sandbox, harness = build_n8n(KEY, seed=2, executions=1200)
    async with httpx.AsyncClient(
        transport=SandboxTransport(app=harness),
        base_url="http://n8n.sandbox",
        headers={"X-N8N-API-KEY": KEY},
    ) as client:
        yield sandbox, client


async def walk(client: httpx.AsyncClient, path: str, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    query: dict[str, Any] = dict(params)
    while True:
        page = (await client.get(path, params=query)).json()
        items.extend(page["data"])
        if page["nextCursor"] is None:
            return items
        query = {k: v for k, v in params.items() if k != "limit"}
        query["cursor"] = page["nextCursor"]


def test_cursors_are_base64_json_like_the_real_ones() -> None:
    assert encode_offset_cursor(offset=0, limit=1, total=2) == "eyJsaW1pdCI6MSwib2Zmc2V0IjoxfQ=="
    assert encode_offset_cursor(offset=1, limit=1, total=2) is None
    assert (
        encode_last_id_cursor(last_id="3", limit=1, more=True) == "eyJsYXN0SWQiOiIzIiwibGltaXQiOjF9"
    )
    assert encode_last_id_cursor(last_id="3", limit=1, more=False) is None


@pytest.mark.parametrize(
    ("cursor", "decoded"),
    [
        ("eyJsaW1pdCI6MSwib2Zmc2V0IjoxfQ", {"limit": 1, "offset": 1}),  # padding optional
        ("eyJsaW1p dCI6MSwib2Zmc2V0IjoxfQ==", {"limit": 1, "offset": 1}),  # junk skipped
        (base64.b64encode(b"[1]").decode(), {}),  # an array passes, as in Node
    ],
)
def test_cursor_decoding_is_lenient_like_node(cursor: str, decoded: dict[str, Any]) -> None:
    assert decode_cursor(cursor) == decoded


@pytest.mark.parametrize("cursor", ["zzz", base64.b64encode(b'"x"').decode(), "Ingi", "!!"])
def test_cursor_that_is_not_a_json_object_is_invalid(cursor: str) -> None:
    with pytest.raises(InvalidCursor, match="An invalid cursor was provided"):
        decode_cursor(cursor)


async def test_walking_all_executions_sees_each_once_newest_first(
    built: tuple[N8nSandbox, httpx.AsyncClient],
) -> None:
    sandbox, client = built
    walked = await walk(client, "/api/v1/executions", limit=250)
    ids = [int(e["id"]) for e in walked]
    assert ids == sorted(ids, reverse=True)
    assert len(ids) == len(set(ids))
    expected = {int(e["id"]) for e in sandbox.executions() if e["status"] != "running"}
    assert set(ids) == expected


async def test_default_page_is_100_and_the_last_page_has_a_null_cursor(
    built: tuple[N8nSandbox, httpx.AsyncClient],
) -> None:
    _, client = built
    first = (await client.get("/api/v1/executions")).json()
    assert len(first["data"]) == 100
    cursor = json.loads(base64.b64decode(first["nextCursor"]))
    assert cursor == {"lastId": first["data"][-1]["id"], "limit": 100}
    # A page that takes exactly what is left is the last one: no cursor to an empty page.
    some = first["data"][0]["workflowId"]
    count = len(await walk(client, "/api/v1/executions", workflowId=some, limit=250))
    exact = (
        await client.get("/api/v1/executions", params={"workflowId": some, "limit": count})
    ).json()
    assert len(exact["data"]) == count
    assert exact["nextCursor"] is None


async def test_filters_hold_across_pages(built: tuple[N8nSandbox, httpx.AsyncClient]) -> None:
    sandbox, client = built
    errors = await walk(client, "/api/v1/executions", status="error", limit=7)
    assert errors
    assert {e["status"] for e in errors} <= {"error", "crashed"}
    expected = {e["id"] for e in sandbox.executions() if e["status"] in ("error", "crashed")}
    assert {e["id"] for e in errors} == expected

    workflow_id = errors[0]["workflowId"]
    own = await walk(client, "/api/v1/executions", workflowId=workflow_id, limit=13)
    assert {e["workflowId"] for e in own} == {workflow_id}


async def test_cursor_limit_wins_over_the_query_limit(
    built: tuple[N8nSandbox, httpx.AsyncClient],
) -> None:
    _, client = built
    first = (await client.get("/api/v1/executions", params={"limit": 2})).json()
    second = await client.get(
        "/api/v1/executions", params={"cursor": first["nextCursor"], "limit": 5}
    )
    assert len(second.json()["data"]) == 2


async def test_workflow_and_tag_lists_page_by_offset(
    built: tuple[N8nSandbox, httpx.AsyncClient],
) -> None:
    sandbox, client = built
    workflows = await walk(client, "/api/v1/workflows", limit=4)
    assert [w["id"] for w in workflows] == sorted(w["id"] for w in sandbox.workflows())
    tags = await walk(client, "/api/v1/tags", limit=3)
    assert len(tags) == len(sandbox.tags())


async def test_limit_zero_means_no_limit_with_the_real_servers_cursor(
    built: tuple[N8nSandbox, httpx.AsyncClient],
) -> None:
    sandbox, client = built
    page = (await client.get("/api/v1/workflows", params={"limit": 0})).json()
    assert len(page["data"]) == len(sandbox.workflows())
    # The real server then offers the same page again: a cursor clients must not follow.
    assert json.loads(base64.b64decode(page["nextCursor"])) == {"limit": 0, "offset": 0}


async def test_execution_ids_in_lists_are_strings(
    built: tuple[N8nSandbox, httpx.AsyncClient],
) -> None:
    _, client = built
    page = (await client.get("/api/v1/executions", params={"limit": 5})).json()
    for execution in page["data"]:
        assert isinstance(execution["id"], str)
        assert isinstance(execution["workflowId"], str)
        assert set(execution) == {
            "id", "finished", "mode", "retryOf", "retrySuccessId", "status",
            "startedAt", "stoppedAt", "workflowId", "waitTill",
        }  # fmt: skip
