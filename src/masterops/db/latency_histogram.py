"""The fixed log-bucket latency histogram the rollups keep (one counter per bucket).

A duration ``d`` (milliseconds) falls in bucket 0 when ``d < 1``, in bucket ``i`` when
``BOUNDS[i-1] <= d < BOUNDS[i]`` (``BOUNDS[i] = 1.1 ** i``), and in the last bucket from
``BOUNDS[-1]`` (about 10.3 minutes) up. Histograms of any hours, services or endpoints
merge by adding counters, so a percentile over any window comes from the sums.

Stated error: a bucket ``[L, 1.1 L)`` is read as ``2.2 L / 2.1``, which is within
``RELATIVE_ERROR`` = 0.1 / 2.1 (4.76 %) of every value in it; a percentile interpolated
between two ranks, as ``percentile_cont`` does, is then within 4.76 % of the exact one.
Below 1 ms the error is absolute (at most 0.5 ms); above the last bound a value is read
as that bound. Python (``bucket_of``) and SQL (``bucket_sql``) compare against the very
same float bounds, so a row lands in the same bucket whichever side files it.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from itertools import accumulate
from math import floor

GROWTH = 1.1
LOG_BUCKETS = 140
#: Upper bounds of buckets 0 .. len-1; the last bucket has none.
BOUNDS: tuple[float, ...] = tuple(GROWTH**i for i in range(LOG_BUCKETS + 1))
BUCKETS = len(BOUNDS) + 1
RELATIVE_ERROR = (GROWTH - 1) / (GROWTH + 1)
#: The value each bucket is read as.
REPRESENTATIVE: tuple[float, ...] = (
    0.5,
    *(2 * GROWTH * low / (GROWTH + 1) for low in BOUNDS[:-1]),
    BOUNDS[-1],
)
COLUMNS: tuple[str, ...] = tuple(f"h{i:03d}" for i in range(BUCKETS))


def bucket_of(duration_ms: float) -> int:
    return bisect_right(BOUNDS, duration_ms)


def bucket_sql(expr: str) -> str:
    """An SQL expression giving ``bucket_of(expr)``: a binary search written out as
    nested CASEs (about 8 comparisons a row, no math functions, both dialects)."""

    def between(lo: int, hi: int) -> str:  # buckets lo..hi inclusive
        if lo == hi:
            return str(lo)
        mid = (lo + hi + 1) // 2  # first bucket of the upper half; its lower bound:
        below, above = between(lo, mid - 1), between(mid, hi)
        return f"CASE WHEN {expr} < {BOUNDS[mid - 1]!r} THEN {below} ELSE {above} END"

    return between(0, BUCKETS - 1)


def percentile(counts: Sequence[int], p: float) -> float | None:
    """The ``p`` percentile of a histogram (calls per bucket), as the SQL of
    rollup_summaries computes it: rank ``p * (n - 1)`` interpolated between the values
    of its two neighbouring ranks, each read as its bucket's value. None when empty."""
    upto = list(accumulate(counts))  # ranks below the end of each bucket
    total = upto[-1] if upto else 0
    if total == 0:
        return None
    position = p * (total - 1)
    low_rank = floor(position)
    low = REPRESENTATIVE[bisect_right(upto, low_rank)]
    high = REPRESENTATIVE[bisect_right(upto, min(low_rank + 1, total - 1))]
    return low + (high - low) * (position - low_rank)


def representative_values_sql() -> str:
    """``VALUES (bucket, value), ...``: the value each bucket is read as."""
    return "VALUES " + ", ".join(f"({i}, {v!r})" for i, v in enumerate(REPRESENTATIVE))
