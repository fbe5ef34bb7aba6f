"""``POST /crm/v3/objects/{objectType}/batch/{create|read|update|upsert|archive}``.

At most 100 inputs. Invalid property values reject the whole batch (400), and so
does a unique value another record or input already holds (409 "Contact already
exists. Existing ID: ..."), before anything is written. Inputs that name missing
records (read, update) or missing association targets (create) become error
items and the answer turns 207. Upsert matches on a unique ``idProperty`` and
marks each result ``new``.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from starlette.responses import Response

from masterops_sandbox.hubspot.endpoint import Call
from masterops_sandbox.hubspot.errors import (
    HubSpotError,
    empty_response,
    json_response,
    validation_error,
)
from masterops_sandbox.hubspot.shape import envelope, error_items, property_set, with_written
from masterops_sandbox.hubspot.store import Change, ObjectStore

MAX_INPUTS = 100
TOO_MANY_INPUTS = (
    "The maximum number of inputs supported in a batch is 100. "
    "Split the inputs into batches of at most 100."
)

Errors = dict[tuple[int, str, str], list[str]]


def _not_found_message(call: Call) -> str:
    return (
        f"Could not get some {call.type.label} objects, they may be deleted or not exist. "
        "Check that ids are valid."
    )


def _check_unique(store: ObjectStore, planned: list[tuple[list[Change], int | None]]) -> None:
    """Refuse the batch if a unique value is taken by another record or another input."""
    claimed: dict[tuple[str, str], int | None] = {}
    for changes, record_id in planned:
        store.check_unique(changes, record_id)
        for definition, value in changes:
            if value is None or not definition.has_unique_value:
                continue
            key = (definition.name, value)
            if key in claimed and claimed[key] != record_id:
                raise validation_error(
                    f"Duplicate unique value {value!r} for {definition.name} in batch input."
                )
            claimed[key] = record_id


def _duplicates(ids: list[str]) -> None:
    dupes = sorted(i for i, n in Counter(ids).items() if n > 1)
    if dupes:
        raise validation_error(f"Duplicate IDs found in batch input: {dupes}. IDs must be unique")


def _answer(
    results: list[dict[str, Any]], errors: Errors, started: str, call: Call, ok: int
) -> Response:
    items = error_items(errors)
    return json_response(envelope(results, items, started, call.now_iso()), 207 if items else ok)


async def batch(call: Call) -> Response:
    body = await call.json_object()
    inputs = body.get("inputs")
    if not isinstance(inputs, list) or not all(isinstance(i, dict) for i in inputs):
        raise validation_error("Invalid input JSON: inputs must be a list of objects")
    if len(inputs) > MAX_INPUTS:
        raise validation_error(TOO_MANY_INPUTS)
    action = call.batch_action
    started = call.now_iso()
    if action == "create":
        return await _create(call, inputs, started)
    if action == "read":
        return _read(call, body, inputs, started)
    if action == "update":
        return _update(call, inputs, started)
    if action == "upsert":
        return _upsert(call, body, inputs, started)
    if action == "archive":
        return _archive(call, inputs)
    raise HubSpotError(404, "OBJECT_NOT_FOUND", f"Unknown batch action: {action}")


async def _create(call: Call, inputs: list[dict[str, Any]], started: str) -> Response:
    store = call.portal.store(call.type)
    planned: list[tuple[list[Change], int | None]] = [
        (store.registry.normalize(i.get("properties") or {}), None) for i in inputs
    ]
    _check_unique(store, planned)
    ms = call.now_ms()
    results: list[dict[str, Any]] = []
    errors: Errors = {}
    for position, (item, (changes, _)) in enumerate(zip(inputs, planned, strict=True)):
        try:
            record = call.portal.create(
                call.type, None, ms, associations=item.get("associations"), changes=changes
            )
        except HubSpotError as error:
            key = (error.status, error.category, error.message)
            errors.setdefault(key, []).append(str(item.get("objectWriteTraceId", position)))
            continue
        written = item.get("properties") or {}
        results.append(store.render(record, with_written(store, written)))
    return _answer(results, errors, started, call, 201)


def _read(call: Call, body: dict[str, Any], inputs: list[dict[str, Any]], started: str) -> Response:
    store = call.portal.store(call.type)
    id_property = body.get("idProperty")
    archived = call.request.query_params.get("archived", "false").lower() == "true"
    names = body.get("properties") or []
    definitions = property_set(store, names if isinstance(names, list) else [])
    results: list[dict[str, Any]] = []
    missing: list[str] = []
    seen: set[int] = set()
    for item in inputs:
        key = str(item.get("id", ""))
        if archived and id_property is None and key.isdigit():
            record = store.get(int(key), archived=True)
        else:
            record = store.lookup(key, id_property, call.portal.id)
        if record is None:
            missing.append(key)
        elif record.id not in seen:
            seen.add(record.id)
            results.append(store.render(record, definitions))
    errors: Errors = {}
    if missing:
        errors[(404, "OBJECT_NOT_FOUND", _not_found_message(call))] = missing
    return _answer(results, errors, started, call, 200)


def _update(call: Call, inputs: list[dict[str, Any]], started: str) -> Response:
    store = call.portal.store(call.type)
    _duplicates([str(i.get("id", "")) for i in inputs])
    planned: list[tuple[list[Change], int | None]] = []
    targets = []
    missing: list[str] = []
    for item in inputs:
        changes = store.registry.normalize(item.get("properties") or {})
        key = str(item.get("id", ""))
        record = store.lookup(key, item.get("idProperty"), call.portal.id)
        if record is None:
            missing.append(key)
            continue
        planned.append((changes, record.id))
        targets.append((item, record))
    _check_unique(store, planned)
    ms = call.now_ms()
    results = []
    for (item, record), (changes, _) in zip(targets, planned, strict=True):
        call.portal.update(call.type, record, None, ms, changes=changes)
        results.append(store.render(record, with_written(store, item.get("properties") or {})))
    errors: Errors = {}
    if missing:
        errors[(404, "OBJECT_NOT_FOUND", _not_found_message(call))] = missing
    return _answer(results, errors, started, call, 200)


def _upsert(
    call: Call, body: dict[str, Any], inputs: list[dict[str, Any]], started: str
) -> Response:
    store = call.portal.store(call.type)
    registry = store.registry
    plans = []
    for item in inputs:
        name = item.get("idProperty") or body.get("idProperty") or "hs_object_id"
        id_def = registry.require_unique(str(name), call.portal.id)
        key = str(item.get("id", ""))
        if not key:
            raise validation_error("Each upsert input needs an id")
        changes = [
            c for c in registry.normalize(item.get("properties") or {}) if c[0].name != id_def.name
        ]
        changes += registry.normalize({id_def.name: key})
        existing = store.by_unique(id_def.name, key)
        plans.append((item, changes, existing))
    _duplicates([str(changes[-1][1]) for _, changes, _ in plans])
    _check_unique(store, [(ch, None if r is None else r.id) for _, ch, r in plans])
    ms = call.now_ms()
    results = []
    for item, changes, existing in plans:
        if existing is None:
            record = call.portal.create(call.type, None, ms, changes=changes)
        else:
            record = call.portal.update(call.type, existing, None, ms, changes=changes)
        written = [*(item.get("properties") or {}), changes[-1][0].name]
        rendered = store.render(record, with_written(store, written))
        rendered["new"] = existing is None
        results.append(rendered)
    return _answer(results, {}, started, call, 200)


def _archive(call: Call, inputs: list[dict[str, Any]]) -> Response:
    store = call.portal.store(call.type)
    ms = call.now_ms()
    for item in inputs:
        key = str(item.get("id", ""))
        record = store.get(int(key)) if key.isdigit() else None
        if record is not None:
            call.portal.archive(call.type, record, ms)
    return empty_response(204)
