"""Composing orders push rounds whose deal and line item batches are all full."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from masterops.sync.orders_rounds import pick_round


@settings(max_examples=100, deadline=None)
@given(
    counts=st.lists(st.integers(1, 5), min_size=300, max_size=500),
    size=st.sampled_from([100, 200]),
)
def test_a_round_has_size_orders_and_whole_batches_of_lines(counts: list[int], size: int) -> None:
    picked = pick_round(counts, size, 100)
    assert len(picked) == size and len(set(picked)) == size
    assert picked == sorted(picked) and picked[0] >= 0 and picked[-1] < len(counts)
    assert sum(counts[i] for i in picked) % 100 == 0


@given(counts=st.lists(st.integers(1, 40), min_size=250, max_size=400))
def test_the_earliest_orders_go_first(counts: list[int]) -> None:
    picked = pick_round(counts, 200, 100)
    # At most a gap's worth of swaps (a gap under 50 lines) leaves the first orders out.
    assert len([i for i in range(200) if i not in set(picked)]) <= 50


def test_a_short_buffer_goes_whole_and_an_impossible_gap_keeps_keyset_order() -> None:
    assert pick_round([3, 1, 2], 200, 100) == [0, 1, 2]
    # Only 1-line orders beyond the first 200 two-line ones: 400 lines already whole.
    assert pick_round([2] * 200 + [1] * 50, 200, 100) == list(range(200))
    # 201 lines in the first 200 orders: a spare one-line order replaces the two-line one.
    counts = [1] * 199 + [2] + [1] * 10
    picked = pick_round(counts, 200, 100)
    assert sum(counts[i] for i in picked) == 200 and 199 not in picked
    # No order beyond can change the total by the odd line: keyset order, part-full.
    assert pick_round([1] * 199 + [2] + [2] * 10, 200, 100) == list(range(200))
