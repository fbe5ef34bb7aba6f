"""Batch calls of any size: split into HubSpot-sized chunks, run them with bounded
concurrency, and give every input its own outcome.

HubSpot's batch answers list results and error items, not one entry per input: results
carry the record's id (and its properties), error items name the inputs they concern in
``context.ids``, and neither is promised to keep the input order. ``assign`` maps them back
to the inputs by key; only what no key explains is matched by position.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from masterops.integrations.base import IntegrationError, batch
from masterops.integrations.hubspot.models import BatchOutcome

X = TypeVar("X")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Chunk(Generic[X]):
    """A slice of a batch call's inputs; ``start`` is the index of its first input."""

    start: int
    items: list[X]
    keys: list[str | None]


async def run_in_chunks(
    items: Sequence[X],
    keys: Sequence[str | None],
    call: Callable[[Chunk[X]], Awaitable[list[BatchOutcome[R]]]],
    *,
    size: int,
    concurrency: int,
) -> list[BatchOutcome[R]]:
    """Run ``call`` on chunks of at most ``size`` inputs, ``concurrency`` at a time, and
    return one outcome per input, in input order.

    A chunk whose call fails as a whole (a 400 for one bad value, a 409, a 5xx after the
    retries) gives its error to each of its inputs; the other chunks go on.
    """
    chunks = [
        Chunk(start, list(items[start : start + size]), list(keys[start : start + size]))
        for start in range(0, len(items), size)
    ]
    if not chunks:
        return []
    outcomes: list[BatchOutcome[R]] = []
    for result in await batch(chunks, call, concurrency=concurrency):
        if result.ok and result.value is not None:
            outcomes.extend(result.value)
            continue
        error = result.error
        if not isinstance(error, IntegrationError):
            raise error if error is not None else RuntimeError("a batch chunk gave no result")
        chunk = result.item
        outcomes.extend(
            BatchOutcome[R](index=chunk.start + i, ok=False, key=key, error=error)
            for i, key in enumerate(chunk.keys)
        )
    outcomes.sort(key=lambda outcome: outcome.index)
    return outcomes


def assign(
    keys: Sequence[str | None],
    results: Sequence[R],
    result_key: Callable[[R], str | None],
    errors: Sequence[tuple[list[str], IntegrationError]],
    *,
    missing: Callable[[], IntegrationError],
    normalize: Callable[[str], str] = str,
) -> list[R | IntegrationError]:
    """What each input (by its key) got: a result or an error.

    1. an error item names inputs by key: those inputs failed;
    2. a result whose key matches inputs belongs to them (all of them, when an input was
       repeated: HubSpot answers a repeated id once);
    3. the remaining results go to the remaining inputs in order, when there are exactly
       as many (a batch create's results carry no input key);
    4. an input still without an answer gets the one error item that named no input, if
       there is exactly one, else ``missing()``.
    """
    slots: list[R | IntegrationError | None] = [None] * len(keys)
    positions: dict[str, list[int]] = {}
    for i, key in enumerate(keys):
        if key is not None:
            positions.setdefault(normalize(key), []).append(i)
    anonymous: list[IntegrationError] = []
    for ids, error in errors:
        if not ids:
            anonymous.append(error)
        for raw in ids:
            for i in positions.get(normalize(raw), ()):
                slots[i] = error
    leftovers: list[R] = []
    for result in results:
        key = result_key(result)
        targets = [] if key is None else positions.get(normalize(key), [])
        targets = [i for i in targets if slots[i] is None]
        if not targets:
            leftovers.append(result)
        for i in targets:
            slots[i] = result
    open_slots = [i for i, slot in enumerate(slots) if slot is None]
    if leftovers and len(leftovers) == len(open_slots):
        for i, result in zip(open_slots, leftovers, strict=True):
            slots[i] = result
        open_slots = []
    for i in open_slots:
        slots[i] = anonymous[0] if len(anonymous) == 1 else missing()
    return [slot for slot in slots if slot is not None]
