"""Workflows and tags: ``/api/v1/workflows`` and ``/api/v1/tags``.

The real server needs ``name, nodes, connections, settings`` on ``POST`` and ``PUT``
(settings too, even empty: 400 otherwise) and refuses its read-only fields (``id,
active, createdAt, updatedAt, versionId, tags``) with a 400, so only the four writable
fields are ever sent.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import Any

from masterops.integrations.n8n.client import N8nClientBase
from masterops.integrations.n8n.models import Node, Tag, Workflow

DEFAULT_SETTINGS: Mapping[str, Any] = {"executionOrder": "v1"}
# Node fields n8n stores but refuses on input (its schema marks them read-only).
_READ_ONLY_NODE_FIELDS = ("createdAt", "updatedAt")

NodeInput = Node | Mapping[str, Any]


def _node_json(node: NodeInput) -> dict[str, Any]:
    data = node.to_api() if isinstance(node, Node) else dict(node)
    for name in _READ_ONLY_NODE_FIELDS:
        data.pop(name, None)
    return data


class WorkflowsApi(N8nClientBase):
    """Workflow and tag calls of ``N8nConnector``."""

    async def list_workflows(
        self,
        *,
        active: bool | None = None,
        tags: str | Sequence[str] | None = None,
        name: str | None = None,
        page_size: int = 100,
    ) -> AsyncGenerator[Workflow, None]:
        """Every workflow matching the filters, in n8n's order (by id).

        ``tags`` are tag *names*; a workflow must carry all of them. ``name`` matches
        case-insensitively anywhere in the workflow's name.
        """
        params: dict[str, Any] = {}
        if active is not None:
            params["active"] = "true" if active else "false"
        if tags:
            params["tags"] = tags if isinstance(tags, str) else ",".join(tags)
        if name:
            params["name"] = name
        pages = self._pages(
            "/workflows", operation="list_workflows", params=params, page_size=page_size
        )
        # aclosing: a caller that stops early must not leave the page generator suspended.
        async with contextlib.aclosing(pages):
            async for page in pages:
                for item in page:
                    yield Workflow.model_validate(item)

    async def get_workflow(self, workflow_id: str) -> Workflow:
        data = await self._json(
            "GET", "/workflows/{id}", path_params={"id": workflow_id}, operation="get_workflow"
        )
        return Workflow.model_validate(data)

    async def create_workflow(
        self,
        name: str,
        nodes: Sequence[NodeInput],
        connections: Mapping[str, Any] | None = None,
        settings: Mapping[str, Any] | None = None,
    ) -> Workflow:
        """Create an inactive workflow. ``settings`` defaults to ``{"executionOrder": "v1"}``
        (the real server refuses a workflow without settings). Never repeated after the
        request may have reached n8n: a timed-out create may have created."""
        body = {
            "name": name,
            "nodes": [_node_json(n) for n in nodes],
            "connections": dict(connections or {}),
            "settings": dict(DEFAULT_SETTINGS if settings is None else settings),
        }
        data = await self._json("POST", "/workflows", json=body, operation="create_workflow")
        return Workflow.model_validate(data)

    async def update_workflow(
        self,
        workflow_id: str,
        *,
        name: str | None = None,
        nodes: Sequence[NodeInput] | None = None,
        connections: Mapping[str, Any] | None = None,
        settings: Mapping[str, Any] | None = None,
    ) -> Workflow:
        """Replace the workflow's name, nodes, connections and settings (PUT).

        The server needs all four and refuses its read-only fields, so what is not given
        is read first and sent back unchanged. An active workflow whose new version has no
        trigger is saved, deactivated, and answered with a 400 (VALIDATION).
        """
        if None in (name, nodes, connections, settings):
            current = await self.get_workflow(workflow_id)
            name = current.name if name is None else name
            nodes = current.nodes if nodes is None else nodes
            connections = current.connections if connections is None else connections
            settings = current.settings if settings is None else settings
        body = {
            "name": name,
            "nodes": [_node_json(n) for n in nodes or []],
            "connections": dict(connections or {}),
            "settings": dict(settings or {}),
        }
        data = await self._json(
            "PUT",
            "/workflows/{id}",
            path_params={"id": workflow_id},
            json=body,
            operation="update_workflow",
        )
        return Workflow.model_validate(data)

    async def delete_workflow(self, workflow_id: str) -> Workflow:
        """Delete the workflow (its executions disappear from the lists); returns it."""
        data = await self._json(
            "DELETE",
            "/workflows/{id}",
            path_params={"id": workflow_id},
            operation="delete_workflow",
        )
        return Workflow.model_validate(data)

    async def activate(self, workflow_id: str) -> Workflow:
        """Activate the workflow. 400 (VALIDATION) when it has no trigger or its webhook
        path is taken by another active workflow. Repeating it is harmless."""
        data = await self._json(
            "POST",
            "/workflows/{id}/activate",
            path_params={"id": workflow_id},
            operation="activate_workflow",
        )
        return Workflow.model_validate(data)

    async def deactivate(self, workflow_id: str) -> Workflow:
        data = await self._json(
            "POST",
            "/workflows/{id}/deactivate",
            path_params={"id": workflow_id},
            operation="deactivate_workflow",
        )
        return Workflow.model_validate(data)

    async def get_tags(self, workflow_id: str) -> list[Tag]:
        data = await self._json(
            "GET",
            "/workflows/{id}/tags",
            path_params={"id": workflow_id},
            operation="get_workflow_tags",
        )
        return [Tag.model_validate(t) for t in data or []]

    async def set_tags(self, workflow_id: str, tag_ids: Sequence[str]) -> list[Tag]:
        """Replace the workflow's tags with ``tag_ids`` (404 if a tag does not exist)."""
        data = await self._json(
            "PUT",
            "/workflows/{id}/tags",
            path_params={"id": workflow_id},
            json=[{"id": tag_id} for tag_id in tag_ids],
            operation="set_workflow_tags",
        )
        return [Tag.model_validate(t) for t in data or []]

    async def list_tags(self, *, page_size: int = 100) -> AsyncGenerator[Tag, None]:
        pages = self._pages("/tags", operation="list_tags", params={}, page_size=page_size)
        async with contextlib.aclosing(pages):
            async for page in pages:
                for item in page:
                    yield Tag.model_validate(item)

    async def create_tag(self, name: str) -> Tag:
        """Create a tag. A name already taken (or one n8n cannot store: empty, over 24
        characters) is a 409, CONFLICT."""
        data = await self._json("POST", "/tags", json={"name": name}, operation="create_tag")
        return Tag.model_validate(data)

    async def get_tag(self, tag_id: str) -> Tag:
        data = await self._json(
            "GET", "/tags/{id}", path_params={"id": tag_id}, operation="get_tag"
        )
        return Tag.model_validate(data)

    async def update_tag(self, tag_id: str, name: str) -> Tag:
        data = await self._json(
            "PUT",
            "/tags/{id}",
            path_params={"id": tag_id},
            json={"name": name},
            operation="update_tag",
        )
        return Tag.model_validate(data)

    async def delete_tag(self, tag_id: str) -> Tag:
        data = await self._json(
            "DELETE", "/tags/{id}", path_params={"id": tag_id}, operation="delete_tag"
        )
        return Tag.model_validate(data)
