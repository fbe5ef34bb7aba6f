"""Credentials: ``POST /api/v1/credentials`` and ``DELETE /api/v1/credentials/{id}``.

n8n's public API can create and delete a credential but never shows its data again, so
the secret sent here is write-only: n8n keeps it encrypted, workflows use it by id.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from masterops.integrations.n8n.client import N8nClientBase


@dataclass(frozen=True)
class Credential:
    id: str
    name: str
    type: str


def _credential(data: Mapping[str, Any]) -> Credential:
    return Credential(str(data["id"]), str(data.get("name", "")), str(data.get("type", "")))


class CredentialsApi(N8nClientBase):
    """Credential calls of ``N8nConnector``."""

    async def create_credential(self, name: str, kind: str, data: Mapping[str, Any]) -> Credential:
        """Create a credential of type ``kind`` (``httpHeaderAuth``: ``{"name": header,
        "value": ...}``); its id and name, never its data."""
        body = {"name": name, "type": kind, "data": dict(data)}
        answer = await self._json("POST", "/credentials", json=body, operation="create_credential")
        return _credential(answer)

    async def delete_credential(self, credential_id: str) -> None:
        """Delete a credential (a 404, NOT_FOUND, when there is none with that id)."""
        await self._json(
            "DELETE",
            "/credentials/{id}",
            path_params={"id": credential_id},
            operation="delete_credential",
        )
