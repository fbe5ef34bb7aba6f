"""Batch create, read, update, upsert and archive of CRM objects.

Each method takes any number of inputs, sends them in chunks of 100 (HubSpot's cap)
with bounded concurrency and returns one ``BatchOutcome`` per input, in input order:
a 207 answer's error items go to the inputs they name, a chunk that fails as a whole
fails its inputs only.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from masterops.integrations.base import IntegrationError
from masterops.integrations.hubspot.chunks import Chunk, assign, run_in_chunks
from masterops.integrations.hubspot.core import BATCH_LIMIT, HubSpotCore, results_of
from masterops.integrations.hubspot.errors import batch_errors, missing_result
from masterops.integrations.hubspot.models import (
    BatchOutcome,
    CrmObject,
    NewObject,
    PropertyValue,
)

_BATCH = "/crm/v3/objects/{type}/batch/"
BATCH_CREATE = _BATCH + "create"
BATCH_READ = _BATCH + "read"
BATCH_UPDATE = _BATCH + "update"
BATCH_UPSERT = _BATCH + "upsert"
BATCH_ARCHIVE = _BATCH + "archive"

Raw = dict[str, Any]
ObjectOutcome = BatchOutcome[CrmObject]


def _by_id(result: Raw) -> str | None:
    value = result.get("id")
    return str(value) if isinstance(value, str | int) else None


def _by_property(name: str) -> Callable[[Raw], str | None]:
    def key(result: Raw) -> str | None:
        properties = result.get("properties")
        value = properties.get(name) if isinstance(properties, dict) else None
        return value if isinstance(value, str) else None

    return key


def _by_trace_id(result: Raw) -> str | None:
    value = result.get("objectWriteTraceId")
    return str(value) if isinstance(value, str | int) else None


def _casefold(value: str) -> str:
    # Unique values such as emails are stored lower-cased: match inputs the same way.
    return value.casefold()


class BatchOperations(HubSpotCore):
    async def batch_create(
        self, object_type: str, items: Sequence[Mapping[str, PropertyValue] | NewObject]
    ) -> list[ObjectOutcome]:
        """Create records; each item is a properties mapping or a ``NewObject`` (with
        associations). Not retried once sent: a repeat could create twice. An outcome's
        ``key`` is the ``objectWriteTraceId`` sent for its input (its index)."""
        objects = [i if isinstance(i, NewObject) else NewObject(i) for i in items]

        async def send(chunk: Chunk[NewObject]) -> list[ObjectOutcome]:
            inputs = []
            for key, obj in zip(chunk.keys, chunk.items, strict=True):
                entry: Raw = {"properties": dict(obj.properties), "objectWriteTraceId": key}
                if obj.associations:
                    entry["associations"] = [a.to_json() for a in obj.associations]
                inputs.append(entry)
            return await self._send_chunk(
                BATCH_CREATE,
                object_type,
                {"inputs": inputs},
                chunk,
                operation="batch_create",
                idempotent=False,
                result_key=_by_trace_id,
            )

        keys: list[str | None] = [str(i) for i in range(len(objects))]
        return await self._in_chunks(objects, keys, send)

    async def batch_read(
        self,
        object_type: str,
        ids: Sequence[str],
        *,
        properties: Sequence[str] | None = None,
        id_property: str | None = None,
    ) -> list[ObjectOutcome]:
        """Read records by id, or by the values of a unique ``id_property``. Ids HubSpot
        does not know come back as ``NOT_FOUND`` outcomes."""
        names = list(properties or [])
        if id_property is not None and id_property not in names:
            names.append(id_property)  # to tell which input each result answers
        result_key = _by_id if id_property is None else _by_property(id_property)

        async def send(chunk: Chunk[str]) -> list[ObjectOutcome]:
            # ``propertiesWithHistory`` is required by HubSpot's request description; empty
            # asks for no history, which is what the live API does when it is left out.
            payload: Raw = {
                "inputs": [{"id": i} for i in chunk.items],
                "properties": names,
                "propertiesWithHistory": [],
            }
            if id_property is not None:
                payload["idProperty"] = id_property
            return await self._send_chunk(
                BATCH_READ,
                object_type,
                payload,
                chunk,
                operation="batch_read",
                idempotent=True,
                result_key=result_key,
                normalize=str if id_property is None else _casefold,
            )

        texts = [str(i) for i in ids]
        keys: list[str | None] = list(texts)
        return await self._in_chunks(texts, keys, send)

    async def batch_update(
        self,
        object_type: str,
        items: Sequence[tuple[str, Mapping[str, PropertyValue]]],
        *,
        id_property: str | None = None,
    ) -> list[ObjectOutcome]:
        """Update records given as ``(id, properties)``; with ``id_property`` the ids are
        values of that unique property. Unknown ids come back as ``NOT_FOUND`` outcomes.
        Safe to repeat: setting the same values twice leaves the same records."""
        result_key = _by_id if id_property is None else _by_property(id_property)

        async def send(
            chunk: Chunk[tuple[str, Mapping[str, PropertyValue]]],
        ) -> list[ObjectOutcome]:
            inputs = []
            for object_id, props in chunk.items:
                entry: Raw = {"id": str(object_id), "properties": dict(props)}
                if id_property is not None:
                    entry["idProperty"] = id_property
                inputs.append(entry)
            return await self._send_chunk(
                BATCH_UPDATE,
                object_type,
                {"inputs": inputs},
                chunk,
                operation="batch_update",
                idempotent=True,
                result_key=result_key,
                normalize=str if id_property is None else _casefold,
            )

        keys: list[str | None] = [str(object_id) for object_id, _ in items]
        return await self._in_chunks(list(items), keys, send)

    async def batch_upsert(
        self,
        object_type: str,
        items: Sequence[Mapping[str, PropertyValue]],
        *,
        id_property: str,
    ) -> list[ObjectOutcome]:
        """Create or update records matched on the unique property ``id_property`` (e.g.
        ``"email"``), whose value each item must hold. Idempotent, hence retried like a
        read; each outcome's ``new`` says whether the record was created."""
        values: list[str | None] = []
        for index, item in enumerate(items):
            value = item.get(id_property)
            if value is None or value == "":
                raise ValueError(f"upsert input {index} has no value for {id_property!r}")
            values.append(str(value))

        async def send(chunk: Chunk[Mapping[str, PropertyValue]]) -> list[ObjectOutcome]:
            inputs = [
                {
                    "id": key,
                    "idProperty": id_property,
                    "properties": {k: v for k, v in item.items() if k != id_property},
                }
                for key, item in zip(chunk.keys, chunk.items, strict=True)
            ]
            return await self._send_chunk(
                BATCH_UPSERT,
                object_type,
                {"inputs": inputs},
                chunk,
                operation="batch_upsert",
                idempotent=True,
                result_key=_by_property(id_property),
                normalize=_casefold,
            )

        return await self._in_chunks(list(items), values, send)

    async def batch_archive(self, object_type: str, ids: Sequence[str]) -> list[BatchOutcome[None]]:
        """Archive records by id. HubSpot answers 204 without detail, so every input of a
        chunk that succeeded is ok (ids already gone included)."""

        async def send(chunk: Chunk[str]) -> list[BatchOutcome[None]]:
            await self.request(
                "POST",
                BATCH_ARCHIVE,
                path_params={"type": object_type},
                json={"inputs": [{"id": i} for i in chunk.items]},
                operation="batch_archive",
                idempotent=True,
            )
            return [
                BatchOutcome[None](index=chunk.start + i, ok=True, key=key)
                for i, key in enumerate(chunk.keys)
            ]

        texts = [str(i) for i in ids]
        keys: list[str | None] = list(texts)
        return await run_in_chunks(
            texts,
            keys,
            send,
            size=BATCH_LIMIT,
            concurrency=self.batch_concurrency,
        )

    # -- shared --------------------------------------------------------------------------

    async def _in_chunks(
        self,
        items: Sequence[Any],
        keys: Sequence[str | None],
        send: Callable[[Chunk[Any]], Awaitable[list[ObjectOutcome]]],
    ) -> list[ObjectOutcome]:
        return await run_in_chunks(
            items, keys, send, size=BATCH_LIMIT, concurrency=self.batch_concurrency
        )

    async def _send_chunk(
        self,
        path: str,
        object_type: str,
        payload: Raw,
        chunk: Chunk[Any],
        *,
        operation: str,
        idempotent: bool,
        result_key: Callable[[Raw], str | None],
        normalize: Callable[[str], str] = str,
    ) -> list[ObjectOutcome]:
        """POST one chunk and map its answer (200, 201 or 207) back to the chunk's inputs."""
        response, body = await self._call_object(
            "POST",
            path,
            path_params={"type": object_type},
            json=payload,
            operation=operation,
            idempotent=idempotent,
        )
        results = [r for r in results_of(body) if isinstance(r, dict)]
        errors = batch_errors(body, operation=operation, endpoint=path, redactor=self.redactor)
        slots = assign(
            chunk.keys,
            results,
            result_key,
            errors,
            normalize=normalize,
            missing=lambda: missing_result(operation=operation, endpoint=path),
        )
        outcomes: list[ObjectOutcome] = []
        for i, (key, slot) in enumerate(zip(chunk.keys, slots, strict=True)):
            index = chunk.start + i
            if isinstance(slot, IntegrationError):
                outcomes.append(ObjectOutcome(index=index, ok=False, key=key, error=slot))
                continue
            record = self._parse(CrmObject, slot, response=response, operation=operation, path=path)
            new = slot.get("new")
            outcomes.append(
                ObjectOutcome(
                    index=index,
                    ok=True,
                    key=key,
                    record=record,
                    new=new if isinstance(new, bool) else None,
                )
            )
        return outcomes
