"""Associations (v4): link records with the default type or with labelled types, list a
record's links, and the batch forms of each.

v4 batches are split into chunks of 100 like v3's: HubSpot's v4 caps are unverified and
100 is accepted everywhere. The outcomes of link operations are keyed ``"from_id:to_id"``.
Type ids: ``CONTACT_TO_COMPANY`` (279), ``DEAL_TO_CONTACT`` (3),
``DEAL_TO_COMPANY`` (5), ``DEAL_TO_LINE_ITEM`` (19) in ``models``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from masterops.integrations.base import IntegrationError
from masterops.integrations.hubspot.chunks import Chunk, assign, run_in_chunks
from masterops.integrations.hubspot.core import BATCH_LIMIT, HubSpotCore, next_after, results_of
from masterops.integrations.hubspot.errors import batch_errors, missing_result
from masterops.integrations.hubspot.models import (
    Association,
    AssociationList,
    AssociationType,
    BatchOutcome,
)

_ONE = "/crm/v4/objects/{from_type}/{from_id}/associations"
ASSOCIATE_DEFAULT = _ONE + "/default/{to_type}/{to_id}"
ASSOCIATE = _ONE + "/{to_type}/{to_id}"
LIST = _ONE + "/{to_type}"
_BATCH = "/crm/v4/associations/{from_type}/{to_type}/batch/"
BATCH_ASSOCIATE_DEFAULT = _BATCH + "associate/default"
BATCH_CREATE = _BATCH + "create"
BATCH_READ = _BATCH + "read"
BATCH_ARCHIVE = _BATCH + "archive"

Pair = tuple[str, str]  # (from id, to id)
Labelled = tuple[str, str, Sequence[AssociationType]]  # (from id, to id, types)


def _types_json(types: Sequence[AssociationType]) -> list[dict[str, Any]]:
    if not types:
        raise ValueError("a labelled association needs at least one association type")
    return [t.to_json() for t in types]


def _link(from_type: str, from_id: str, to_type: str, to_id: str) -> dict[str, str]:
    return {"from_type": from_type, "from_id": from_id, "to_type": to_type, "to_id": to_id}


class AssociationOperations(HubSpotCore):
    async def associate_default(
        self, from_type: str, from_id: str, to_type: str, to_id: str
    ) -> None:
        """Link two records with the pair's default type (e.g. 279 contact -> company).
        Linking twice is harmless, so the PUT is retried like any idempotent call."""
        await self._call(
            "PUT",
            ASSOCIATE_DEFAULT,
            path_params=_link(from_type, from_id, to_type, to_id),
            operation="associate_default",
        )

    async def associate(
        self,
        from_type: str,
        from_id: str,
        to_type: str,
        to_id: str,
        types: Sequence[AssociationType],
    ) -> None:
        """Link two records with the given (labelled or HubSpot-defined) types."""
        await self._call(
            "PUT",
            ASSOCIATE,
            path_params=_link(from_type, from_id, to_type, to_id),
            json=_types_json(types),
            operation="associate",
        )

    async def remove_association(
        self, from_type: str, from_id: str, to_type: str, to_id: str
    ) -> None:
        """Remove every association between two records."""
        await self.request(
            "DELETE",
            ASSOCIATE,
            path_params=_link(from_type, from_id, to_type, to_id),
            operation="remove_association",
        )

    async def list_associations(
        self, from_type: str, from_id: str, to_type: str, *, page_size: int = 500
    ) -> list[Association]:
        """Every record of ``to_type`` linked to the given record, with the link types
        (all pages). A missing record is ``NOT_FOUND``."""
        found: list[Association] = []
        after: str | None = None
        params: dict[str, Any] = {"limit": page_size}
        path_params = {"from_type": from_type, "from_id": from_id, "to_type": to_type}
        while True:
            if after is not None:
                params["after"] = after
            response, body = await self._call_object(
                "GET",
                LIST,
                path_params=path_params,
                params=params,
                operation="list_associations",
            )
            found.extend(
                self._parse(
                    Association, raw, response=response, operation="list_associations", path=LIST
                )
                for raw in results_of(body)
            )
            following = next_after(body)
            if following is None or following == after:
                return found
            after = following

    async def batch_associate_default(
        self, from_type: str, to_type: str, pairs: Sequence[Pair]
    ) -> list[BatchOutcome[None]]:
        """Link each ``(from id, to id)`` with the default type; one outcome per pair."""
        inputs = [{"from": {"id": str(a)}, "to": {"id": str(b)}} for a, b in pairs]
        return await self._batch_links(
            BATCH_ASSOCIATE_DEFAULT, from_type, to_type, inputs, "batch_associate_default"
        )

    async def batch_associate(
        self, from_type: str, to_type: str, links: Sequence[Labelled]
    ) -> list[BatchOutcome[None]]:
        """Link each ``(from id, to id, types)``; one outcome per link."""
        inputs = [
            {"from": {"id": str(a)}, "to": {"id": str(b)}, "types": _types_json(types)}
            for a, b, types in links
        ]
        return await self._batch_links(
            BATCH_CREATE, from_type, to_type, inputs, "batch_create_associations"
        )

    async def batch_read_associations(
        self, from_type: str, to_type: str, ids: Sequence[str]
    ) -> list[BatchOutcome[AssociationList]]:
        """The associations to ``to_type`` of each record in ``ids``; unknown ids come back
        as ``NOT_FOUND`` outcomes. A record with over 500 links may be cut at the first
        page: use ``list_associations`` for those."""
        path_params = {"from_type": from_type, "to_type": to_type}
        operation = "batch_read_associations"

        def from_id(result: dict[str, Any]) -> str | None:
            return _id_of(result.get("from"))

        async def send(chunk: Chunk[str]) -> list[BatchOutcome[AssociationList]]:
            response, body = await self._call_object(
                "POST",
                BATCH_READ,
                path_params=path_params,
                json={"inputs": [{"id": i} for i in chunk.items]},
                operation=operation,
                idempotent=True,
            )
            slots = assign(
                chunk.keys,
                [r for r in results_of(body) if isinstance(r, dict)],
                from_id,
                batch_errors(
                    body, operation=operation, endpoint=BATCH_READ, redactor=self.redactor
                ),
                missing=lambda: missing_result(operation=operation, endpoint=BATCH_READ),
            )
            outcomes: list[BatchOutcome[AssociationList]] = []
            for i, (key, slot) in enumerate(zip(chunk.keys, slots, strict=True)):
                if isinstance(slot, IntegrationError):
                    outcomes.append(
                        BatchOutcome(index=chunk.start + i, ok=False, key=key, error=slot)
                    )
                    continue
                links = slot.get("to")
                value = AssociationList(
                    from_id=str(key),
                    associations=[
                        self._parse(
                            Association,
                            raw,
                            response=response,
                            operation=operation,
                            path=BATCH_READ,
                        )
                        for raw in (links if isinstance(links, list) else [])
                    ],
                )
                outcomes.append(BatchOutcome(index=chunk.start + i, ok=True, key=key, record=value))
            return outcomes

        texts = [str(i) for i in ids]
        keys: list[str | None] = list(texts)
        return await run_in_chunks(
            texts, keys, send, size=BATCH_LIMIT, concurrency=self.batch_concurrency
        )

    async def batch_remove_associations(
        self, from_type: str, to_type: str, pairs: Sequence[Pair]
    ) -> list[BatchOutcome[None]]:
        """Remove every association of each ``(from id, to id)``. HubSpot answers 204
        without detail, so every pair of a chunk that succeeded is ok."""
        inputs = [{"from": {"id": str(a)}, "to": [{"id": str(b)}]} for a, b in pairs]
        keys: list[str | None] = [f"{a}:{b}" for a, b in pairs]
        return await self._archive_links(
            BATCH_ARCHIVE, from_type, to_type, inputs, keys, "batch_remove_associations"
        )

    # -- shared --------------------------------------------------------------------------

    async def _archive_links(
        self,
        path: str,
        from_type: str,
        to_type: str,
        inputs: list[dict[str, Any]],
        keys: list[str | None],
        operation: str,
    ) -> list[BatchOutcome[None]]:
        """POST archive inputs in chunks. HubSpot answers 204 without detail, so every
        input of a chunk that succeeded is ok."""

        async def send(chunk: Chunk[dict[str, Any]]) -> list[BatchOutcome[None]]:
            await self.request(
                "POST",
                path,
                path_params={"from_type": from_type, "to_type": to_type},
                json={"inputs": chunk.items},
                operation=operation,
                idempotent=True,  # removing what is gone changes nothing
            )
            return [
                BatchOutcome[None](index=chunk.start + i, ok=True, key=key)
                for i, key in enumerate(chunk.keys)
            ]

        return await run_in_chunks(
            inputs, keys, send, size=BATCH_LIMIT, concurrency=self.batch_concurrency
        )

    async def _batch_links(
        self,
        path: str,
        from_type: str,
        to_type: str,
        inputs: list[dict[str, Any]],
        operation: str,
    ) -> list[BatchOutcome[None]]:
        """POST link inputs in chunks. A result names its pair (from and to ids); an error
        item names only ids, so it goes to the unlinked pairs with one of them."""
        path_params = {"from_type": from_type, "to_type": to_type}

        async def send(chunk: Chunk[dict[str, Any]]) -> list[BatchOutcome[None]]:
            _, body = await self._call_object(
                "POST",
                path,
                path_params=path_params,
                json={"inputs": chunk.items},
                operation=operation,
                # Linking records that are already linked changes nothing: safe to repeat.
                idempotent=True,
            )
            linked = {_pair_of(r) for r in results_of(body) if isinstance(r, dict)}
            errors = batch_errors(body, operation=operation, endpoint=path, redactor=self.redactor)
            anonymous = [e for ids, e in errors if not ids]
            outcomes: list[BatchOutcome[None]] = []
            for i, (key, item) in enumerate(zip(chunk.keys, chunk.items, strict=True)):
                pair = (item["from"]["id"], item["to"]["id"])
                if pair in linked:
                    outcomes.append(BatchOutcome[None](index=chunk.start + i, ok=True, key=key))
                    continue
                error = next((e for ids, e in errors if pair[0] in ids or pair[1] in ids), None)
                if error is None:
                    error = (
                        anonymous[0]
                        if len(anonymous) == 1
                        else missing_result(operation=operation, endpoint=path)
                    )
                outcomes.append(
                    BatchOutcome[None](index=chunk.start + i, ok=False, key=key, error=error)
                )
            return outcomes

        keys: list[str | None] = [f"{i['from']['id']}:{i['to']['id']}" for i in inputs]
        return await run_in_chunks(
            inputs, keys, send, size=BATCH_LIMIT, concurrency=self.batch_concurrency
        )


def _id_of(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("id")
    return str(value) if isinstance(value, str | int) else None


def _pair_of(result: dict[str, Any]) -> tuple[str | None, str | None]:
    """(from id, to id) of a link result: ``from``/``to`` objects (associate/default) or
    ``fromObjectId``/``toObjectId`` (create)."""
    return (
        _id_of(result.get("from", result.get("fromObjectId"))),
        _id_of(result.get("to", result.get("toObjectId"))),
    )
