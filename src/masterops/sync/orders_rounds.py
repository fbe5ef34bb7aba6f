"""Which buffered orders make the next round of the orders push, so its batches are full.

A round of orders becomes one deal batch per 100 orders and one line item batch (and one
deal -> line item link batch) per 100 lines. Taking orders strictly in keyset order left
a part-full line item and link batch in every round (about 94 inputs per call on
average), and HubSpot counts calls, not inputs. So the push reads ahead, and a round is
``size`` orders (a multiple of 100: full deal batches) whose line count is a multiple of
100 too: the earliest orders, with a few of the last ones swapped for orders further on
whose line counts differ by what the total lacks. Orders left out stay buffered and lead
the next round, so none waits more than a round or two; the last round takes the rest.
"""

from __future__ import annotations

from collections.abc import Sequence


def pick_round(counts: Sequence[int], size: int, batch: int) -> list[int]:
    """Indices (ascending) of ``size`` entries of ``counts`` (line counts of the buffered
    orders, in keyset order) whose sum is a multiple of ``batch``; the first ``size`` when
    no swap gets there, all of them when there are no more than ``size``."""
    if len(counts) <= size:
        return list(range(len(counts)))
    total = sum(counts[:size])
    short = -total % batch  # lines to add, or take away ``batch - short``
    for wanted in sorted((short, short - batch), key=abs):
        chosen = _swap_towards(counts, size, wanted)
        if chosen is not None:
            return chosen
    return list(range(size))


def _swap_towards(counts: Sequence[int], size: int, wanted: int) -> list[int] | None:
    """Swap chosen orders (latest first) for left-out ones (earliest first) until the line
    total has changed by ``wanted``; None if no swap can close the gap."""
    # Line count -> indices: chosen ones latest last, left-out ones earliest first.
    chosen: dict[int, list[int]] = {}
    for i in range(size):
        chosen.setdefault(counts[i], []).append(i)
    spare: dict[int, list[int]] = {}
    for i in range(len(counts) - 1, size - 1, -1):
        spare.setdefault(counts[i], []).append(i)  # reversed: pop() gives the earliest
    gap = wanted
    while gap:
        best: tuple[int, int] | None = None
        for out, outs in chosen.items():
            for into, intos in spare.items():
                step = into - out
                useful = outs and intos and 0 < step * _sign(gap) <= abs(gap)
                if useful and (best is None or abs(step) > abs(best[1] - best[0])):
                    best = (out, into)
        if best is None:
            return None
        out, into = best
        dropped, taken = chosen[out].pop(), spare[into].pop()
        chosen.setdefault(into, []).append(taken)
        spare.setdefault(out, []).append(dropped)  # now the earliest left out
        gap -= into - out
    return sorted(i for indices in chosen.values() for i in indices)


def _sign(value: int) -> int:
    return 1 if value > 0 else -1
