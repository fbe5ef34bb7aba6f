"""N8nConnector tags against the in-process n8n sandbox."""

from __future__ import annotations

import pytest
from n8n_conn_helpers import N8nEnv

from masterops.integrations.base import ErrorCategory, IntegrationError
from masterops.integrations.n8n import N8nConnector

TAGS = "/api/v1/tags"


async def test_tag_lifecycle(empty_n8n: N8nConnector) -> None:
    created = await empty_n8n.create_tag("inventory")
    assert created.name == "inventory" and created.id
    assert created.created_at is not None and created.created_at.utcoffset() is not None
    assert (await empty_n8n.get_tag(created.id)).name == "inventory"
    renamed = await empty_n8n.update_tag(created.id, "stock")
    assert renamed.name == "stock"
    assert renamed.created_at is None  # the real server leaves it out of this answer
    assert [t.name async for t in empty_n8n.list_tags()] == ["stock"]
    deleted = await empty_n8n.delete_tag(created.id)
    assert deleted.id == created.id
    assert [t async for t in empty_n8n.list_tags()] == []


async def test_a_duplicate_tag_is_a_conflict(empty_n8n: N8nConnector) -> None:
    await empty_n8n.create_tag("orders")
    with pytest.raises(IntegrationError) as caught:
        await empty_n8n.create_tag("orders")
    assert caught.value.category is ErrorCategory.CONFLICT
    assert caught.value.status == 409
    assert caught.value.message == "Tag already exists"
    assert not caught.value.retryable


async def test_renaming_onto_a_taken_name_is_a_conflict(empty_n8n: N8nConnector) -> None:
    await empty_n8n.create_tag("a")
    b = await empty_n8n.create_tag("b")
    with pytest.raises(IntegrationError) as caught:
        await empty_n8n.update_tag(b.id, "a")
    assert caught.value.category is ErrorCategory.CONFLICT


async def test_unknown_tag_is_not_found(empty_n8n: N8nConnector) -> None:
    for call in (empty_n8n.get_tag, empty_n8n.delete_tag):
        with pytest.raises(IntegrationError) as caught:
            await call("nope0000nope0000")
        assert caught.value.category is ErrorCategory.NOT_FOUND
    with pytest.raises(IntegrationError) as caught:
        await empty_n8n.update_tag("nope0000nope0000", "x")
    assert caught.value.category is ErrorCategory.NOT_FOUND


async def test_tag_paging(empty_env: N8nEnv) -> None:
    async with empty_env.connect() as n8n:
        for i in range(5):
            await n8n.create_tag(f"t{i}")
        names = [t.name async for t in n8n.list_tags(page_size=2)]
    assert sorted(names) == [f"t{i}" for i in range(5)]
    assert empty_env.harness.call_count(TAGS, "GET") == 3


async def test_seeded_tags(n8n: N8nConnector) -> None:
    names = {t.name async for t in n8n.list_tags()}
    assert {"teelixir", "elevate", "boo", "rhf", "inventory", "orders"} <= names
