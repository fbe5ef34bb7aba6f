"""Associations v3 (``/crm/v3/associations/{from}/{to}/batch/{create|read|archive}``), which
older scripts and some HubSpot tools still use.

v3 names an association type by its name (``contact_to_company``; a label by its type id
as text) where v4 uses a category and an id. Outcomes of link operations are keyed
``"from_id:to_id"`` like v4's. A record with no associations of the other type is an error
item for HubSpot (``NO_ASSOCIATIONS_FOUND``); here it is an ok outcome with no links,
which is what a caller asking "what is it linked to?" wants to know.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from masterops.integrations.base import IntegrationError
from masterops.integrations.hubspot.associations import AssociationOperations, _id_of
from masterops.integrations.hubspot.chunks import Chunk, assign, run_in_chunks
from masterops.integrations.hubspot.core import BATCH_LIMIT, results_of
from masterops.integrations.hubspot.errors import batch_errors, missing_result
from masterops.integrations.hubspot.models import BatchOutcome, IdText, Model

_V3_BATCH = "/crm/v3/associations/{from_type}/{to_type}/batch/"
V3_CREATE = _V3_BATCH + "create"
V3_READ = _V3_BATCH + "read"
V3_ARCHIVE = _V3_BATCH + "archive"
_NO_LINKS = "NO_ASSOCIATIONS_FOUND"

#: (from id, to id, v3 type name such as ``"contact_to_company"``)
V3Link = tuple[str, str, str]


class V3Associated(Model):
    """One record linked to the record read, with the v3 name of the link's type."""

    id: IdText
    type: str


def _inputs(links: Sequence[V3Link]) -> list[dict[str, Any]]:
    return [{"from": {"id": str(a)}, "to": {"id": str(b)}, "type": t} for a, b, t in links]


def _no_links_ids(item: Mapping[str, Any]) -> list[str]:
    """The records a ``NO_ASSOCIATIONS_FOUND`` error item names (none for other items)."""
    sub = item.get("subCategory")
    if not isinstance(sub, str) or not sub.endswith(_NO_LINKS):
        return []
    context = item.get("context")
    if not isinstance(context, Mapping):
        return []
    found: list[str] = []
    for key in ("fromObjectId", "ids", "id"):
        values = context.get(key)
        if isinstance(values, list):
            found.extend(str(v) for v in values if isinstance(v, str | int))
    return found


class AssociationV3Operations(AssociationOperations):
    async def v3_batch_associate(
        self, from_type: str, to_type: str, links: Sequence[V3Link]
    ) -> list[BatchOutcome[None]]:
        """Link each ``(from id, to id, type name)``; one outcome per link."""
        return await self._batch_links(
            V3_CREATE, from_type, to_type, _inputs(links), "v3_batch_associate"
        )

    async def v3_batch_remove_associations(
        self, from_type: str, to_type: str, links: Sequence[V3Link]
    ) -> list[BatchOutcome[None]]:
        """Remove each ``(from id, to id, type name)`` link. HubSpot answers 204 without
        detail, so every link of a chunk that succeeded is ok."""
        keys: list[str | None] = [f"{a}:{b}" for a, b, _ in links]
        return await self._archive_links(
            V3_ARCHIVE, from_type, to_type, _inputs(links), keys, "v3_batch_remove_associations"
        )

    async def v3_batch_read_associations(
        self, from_type: str, to_type: str, ids: Sequence[str]
    ) -> list[BatchOutcome[list[V3Associated]]]:
        """The ``to_type`` records linked to each record in ``ids`` (an empty list for a
        record with none); unknown records are ``NOT_FOUND`` outcomes."""
        operation = "v3_batch_read_associations"

        async def send(chunk: Chunk[str]) -> list[BatchOutcome[list[V3Associated]]]:
            response, body = await self._call_object(
                "POST",
                V3_READ,
                path_params={"from_type": from_type, "to_type": to_type},
                json={"inputs": [{"id": i} for i in chunk.items]},
                operation=operation,
                idempotent=True,
            )
            raw_items = body.get("errors")
            items = (
                [i for i in raw_items if isinstance(i, Mapping)]
                if isinstance(raw_items, list)
                else []
            )
            unlinked = [
                {"from": {"id": i}, "to": []} for item in items for i in _no_links_ids(item)
            ]
            kept = {"errors": [item for item in items if not _no_links_ids(item)]}
            results = [r for r in results_of(body) if isinstance(r, dict)] + unlinked
            slots = assign(
                chunk.keys,
                results,
                lambda result: _id_of(result.get("from")),
                batch_errors(kept, operation=operation, endpoint=V3_READ, redactor=self.redactor),
                missing=lambda: missing_result(operation=operation, endpoint=V3_READ),
            )
            outcomes: list[BatchOutcome[list[V3Associated]]] = []
            for i, (key, slot) in enumerate(zip(chunk.keys, slots, strict=True)):
                index = chunk.start + i
                if isinstance(slot, IntegrationError):
                    outcomes.append(BatchOutcome(index=index, ok=False, key=key, error=slot))
                    continue
                linked = slot.get("to")
                record = [
                    self._parse(
                        V3Associated, raw, response=response, operation=operation, path=V3_READ
                    )
                    for raw in (linked if isinstance(linked, list) else [])
                ]
                outcomes.append(BatchOutcome(index=index, ok=True, key=key, record=record))
            return outcomes

        texts = [str(i) for i in ids]
        keys: list[str | None] = list(texts)
        return await run_in_chunks(
            texts, keys, send, size=BATCH_LIMIT, concurrency=self.batch_concurrency
        )
