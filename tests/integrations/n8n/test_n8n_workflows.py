"""N8nConnector workflows and workflow tags against the in-process n8n sandbox."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

import pytest
from n8n_conn_helpers import N8nEnv, chain, noop_node, webhook_node
from starlette.types import Message, Receive, Scope, Send

from masterops.integrations.base import ErrorCategory, IntegrationError
from masterops.integrations.n8n import N8nConnector, Node, Workflow

WORKFLOWS = "/api/v1/workflows"
WORKFLOW = "/api/v1/workflows/{id}"


async def _create_plain(n8n: N8nConnector, name: str) -> Workflow:
    return await n8n.create_workflow(name, [noop_node()], {})


# -- listing ---------------------------------------------------------------------------


async def test_list_pages_until_the_cursor_is_null(empty_env: N8nEnv) -> None:
    for i in range(7):
        empty_env.sandbox.create_workflow(f"wf-{i}", [noop_node()])
    async with empty_env.connect() as n8n:
        names = [w.name async for w in n8n.list_workflows(page_size=3)]
    assert sorted(names) == [f"wf-{i}" for i in range(7)]
    # 3 + 3 + 1: the third page has a null cursor, so there is no fourth request.
    assert empty_env.harness.call_count(WORKFLOWS, "GET") == 3


async def test_an_exact_multiple_of_the_page_size_needs_no_empty_page(empty_env: N8nEnv) -> None:
    for i in range(4):
        empty_env.sandbox.create_workflow(f"wf-{i}", [noop_node()])
    async with empty_env.connect() as n8n:
        listed = [w async for w in n8n.list_workflows(page_size=2)]
    assert len(listed) == 4
    assert empty_env.harness.call_count(WORKFLOWS, "GET") == 2


async def test_an_empty_instance_is_one_request(empty_n8n: N8nConnector, empty_env: N8nEnv) -> None:
    assert [w async for w in empty_n8n.list_workflows()] == []
    assert empty_env.harness.call_count(WORKFLOWS, "GET") == 1


async def test_seeded_list_parses_every_workflow(n8n: N8nConnector, env: N8nEnv) -> None:
    listed = [w async for w in n8n.list_workflows(page_size=250)]
    assert len(listed) == len(env.sandbox.workflows()) == 18
    assert env.harness.call_count(WORKFLOWS, "GET") == 1
    stock = next(w for w in listed if "Teelixir" in w.name and "stock" in w.name)
    assert stock.active is True
    assert set(stock.tag_names) == {"teelixir", "inventory"}
    assert stock.created_at is not None and stock.created_at.utcoffset() is not None
    assert all(isinstance(node, Node) for node in stock.nodes)


async def test_filters_are_sent_again_with_every_cursor(empty_env: N8nEnv) -> None:
    for i in range(5):
        empty_env.sandbox.create_workflow(f"Stock sync {i}", [noop_node()], tags=["inventory"])
    empty_env.sandbox.create_workflow("Stock sync untagged", [noop_node()])
    empty_env.sandbox.create_workflow("Orders", [noop_node()], tags=["inventory"])
    async with empty_env.connect() as n8n:
        found = [
            w.name async for w in n8n.list_workflows(name="stock", tags=["inventory"], page_size=2)
        ]
    assert sorted(found) == [f"Stock sync {i}" for i in range(5)]
    assert empty_env.harness.call_count(WORKFLOWS, "GET") == 3


async def test_active_filter(n8n: N8nConnector, env: N8nEnv) -> None:
    active = [w async for w in n8n.list_workflows(active=True)]
    inactive = [w async for w in n8n.list_workflows(active=False)]
    assert active and inactive
    assert all(w.active for w in active) and not any(w.active for w in inactive)
    assert len(active) + len(inactive) == 18


async def test_tags_as_one_comma_separated_string(n8n: N8nConnector) -> None:
    listed = [w async for w in n8n.list_workflows(tags="rhf,inventory")]
    assert listed and all({"rhf", "inventory"} <= set(w.tag_names) for w in listed)


@pytest.mark.parametrize("size", [0, 251, -1])
async def test_page_size_is_checked_before_any_call(
    n8n: N8nConnector, env: N8nEnv, size: int
) -> None:
    with pytest.raises(ValueError, match="page_size"):
        [w async for w in n8n.list_workflows(page_size=size)]
    assert env.harness.call_count() == 0


# -- read, create, update, delete ------------------------------------------------------


async def test_get_workflow(n8n: N8nConnector, env: N8nEnv) -> None:
    wanted = env.sandbox.workflows()[0]
    got = await n8n.get_workflow(wanted["id"])
    assert got.id == wanted["id"] and got.name == wanted["name"]
    assert got.version_id == wanted["versionId"]


async def test_unknown_workflow_is_not_found(n8n: N8nConnector) -> None:
    missing = "nope0000nope0000"
    calls: list[Callable[[], Awaitable[object]]] = [
        lambda: n8n.get_workflow(missing),
        lambda: n8n.delete_workflow(missing),
        lambda: n8n.activate(missing),
        lambda: n8n.deactivate(missing),
        lambda: n8n.get_tags(missing),
        lambda: n8n.update_workflow(missing, name="x", nodes=[], connections={}, settings={}),
        lambda: n8n.update_workflow(missing, name="only the name"),
    ]
    for call in calls:
        with pytest.raises(IntegrationError) as caught:
            await call()
        assert caught.value.category is ErrorCategory.NOT_FOUND
        assert caught.value.status == 404
        assert not caught.value.retryable


async def test_create_sends_default_settings(empty_n8n: N8nConnector) -> None:
    created = await empty_n8n.create_workflow("with defaults", [noop_node()])
    assert created.active is False and len(created.id) == 16
    assert created.settings["executionOrder"] == "v1"
    assert created.nodes[0].id  # the server gives every node an id


async def test_create_accepts_node_models_and_keeps_their_extra_fields(
    empty_n8n: N8nConnector,
) -> None:
    node = Node.model_validate({**webhook_node("hooks/one"), "notes": "kept"})
    created = await empty_n8n.create_workflow("typed", [node], {}, {"timezone": "UTC"})
    fetched = await empty_n8n.get_workflow(created.id)
    assert fetched.nodes[0].webhook_id == node.webhook_id
    assert fetched.nodes[0].to_api()["notes"] == "kept"
    assert fetched.nodes[0].to_api()["typeVersion"] == 2  # not 2.0
    assert fetched.settings["timezone"] == "UTC"


async def test_a_workflow_without_settings_is_refused(empty_n8n: N8nConnector) -> None:
    # The connector always sends settings; this is what the server says without them.
    body = {"name": "no settings", "nodes": [noop_node()], "connections": {}}
    with pytest.raises(IntegrationError) as caught:
        await empty_n8n.request("POST", WORKFLOWS, json=body, operation="create_workflow")
    assert caught.value.category is ErrorCategory.VALIDATION
    assert caught.value.status == 400
    assert caught.value.message == "request/body must have required property 'settings'"


async def test_invalid_node_is_a_validation_error(empty_n8n: N8nConnector) -> None:
    with pytest.raises(IntegrationError) as caught:
        await empty_n8n.create_workflow("bad", [{"name": "x", "type": "t", "bogus": 1}])
    assert caught.value.category is ErrorCategory.VALIDATION
    assert "must NOT have additional properties" in caught.value.message


async def test_update_one_field_reads_the_rest_and_sends_only_writable_fields(
    empty_env: N8nEnv,
) -> None:
    bodies: list[dict[str, object]] = []

    async def spy(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] == "PUT":
            message = await receive()
            bodies.append(json.loads(message["body"]))

            replayed = False

            async def replay() -> Message:
                # The body once, as read; then whatever the client sends next.
                nonlocal replayed
                if replayed:
                    return await receive()
                replayed = True
                return message

            await empty_env.harness(scope, replay, send)
            return
        await empty_env.harness(scope, receive, send)

    async with empty_env.connect(app=spy) as n8n:
        created = await n8n.create_workflow(
            "before", [webhook_node("u/1")], {}, {"executionOrder": "v1", "timezone": "UTC"}
        )
        updated = await n8n.update_workflow(created.id, name="after")
    assert updated.name == "after"
    assert updated.version_id != created.version_id
    assert updated.settings["timezone"] == "UTC"
    assert [n.webhook_id for n in updated.nodes] == [n.webhook_id for n in created.nodes]
    assert set(bodies[0]) == {"name", "nodes", "connections", "settings"}
    assert empty_env.harness.call_count(WORKFLOW, "GET") == 1


async def test_update_with_every_field_does_not_read_first(empty_env: N8nEnv) -> None:
    async with empty_env.connect() as n8n:
        created = await _create_plain(n8n, "x")
        nodes = [noop_node("A"), noop_node("B")]
        updated = await n8n.update_workflow(
            created.id, name="y", nodes=nodes, connections=chain(*nodes), settings={}
        )
    assert [n.name for n in updated.nodes] == ["A", "B"]
    assert updated.connections == chain(*nodes)
    assert empty_env.harness.call_count(WORKFLOW, "GET") == 0


async def test_delete_workflow(empty_n8n: N8nConnector) -> None:
    created = await _create_plain(empty_n8n, "to delete")
    deleted = await empty_n8n.delete_workflow(created.id)
    assert deleted.id == created.id
    with pytest.raises(IntegrationError) as caught:
        await empty_n8n.get_workflow(created.id)
    assert caught.value.category is ErrorCategory.NOT_FOUND


# -- activation ------------------------------------------------------------------------


async def test_activate_and_deactivate(empty_n8n: N8nConnector) -> None:
    created = await empty_n8n.create_workflow("hooked", [webhook_node("act/1")])
    activated = await empty_n8n.activate(created.id)
    assert activated.active is True
    assert (await empty_n8n.activate(created.id)).active is True  # idempotent
    deactivated = await empty_n8n.deactivate(created.id)
    assert deactivated.active is False
    assert (await empty_n8n.get_workflow(created.id)).active is False


async def test_activation_without_a_trigger_is_a_validation_error(empty_n8n: N8nConnector) -> None:
    created = await _create_plain(empty_n8n, "no trigger")
    with pytest.raises(IntegrationError) as caught:
        await empty_n8n.activate(created.id)
    assert caught.value.category is ErrorCategory.VALIDATION
    assert "has no node to start the workflow" in caught.value.message


# -- workflow tags ---------------------------------------------------------------------


async def test_get_and_set_tags(empty_n8n: N8nConnector) -> None:
    created = await _create_plain(empty_n8n, "tagged")
    assert await empty_n8n.get_tags(created.id) == []
    a = await empty_n8n.create_tag("alpha")
    b = await empty_n8n.create_tag("beta")
    now = await empty_n8n.set_tags(created.id, [a.id, b.id])
    assert {t.name for t in now} == {"alpha", "beta"}
    assert {t.id for t in await empty_n8n.get_tags(created.id)} == {a.id, b.id}
    assert [w.id async for w in empty_n8n.list_workflows(tags=["alpha"])] == [created.id]
    assert await empty_n8n.set_tags(created.id, []) == []


async def test_set_an_unknown_tag_is_not_found(empty_n8n: N8nConnector) -> None:
    created = await _create_plain(empty_n8n, "tagged")
    with pytest.raises(IntegrationError) as caught:
        await empty_n8n.set_tags(created.id, ["nope0000nope0000"])
    assert caught.value.category is ErrorCategory.NOT_FOUND


async def test_trailing_slash_in_base_url_is_harmless(empty_env: N8nEnv) -> None:
    async with empty_env.connect(base_url="http://n8n.sandbox/") as n8n:
        assert [w async for w in n8n.list_workflows()] == []


async def test_a_server_repeating_its_cursor_cannot_loop_forever(empty_env: N8nEnv) -> None:
    async def stuck(scope: Scope, receive: Receive, send: Send) -> None:
        body = json.dumps({"data": [], "nextCursor": "c2FtZQ=="}).encode()
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async with empty_env.connect(app=stuck) as n8n:
        with pytest.raises(IntegrationError) as caught:
            [w async for w in n8n.list_workflows()]
    assert "cursor" in caught.value.message
