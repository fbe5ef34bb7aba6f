"""How exactly the token bucket delivers its rate with the real clock.

50 concurrent callers take tokens for 10 s from a bucket of 100 per second. Prints the
achieved rate over the configured one and the most calls seen in any 1-s sliding window
(which must never exceed 100).

    .venv/bin/python bench/limiter_accuracy.py [--callers 50] [--seconds 10] [--rate 100]
"""

from __future__ import annotations

import argparse
import asyncio
import time

from masterops.integrations.base import LimitSpec, RealClock, TokenBucket


def max_in_window(times: list[float], period: float) -> int:
    """The most timestamps in any half-open window [t, t + period)."""
    times = sorted(times)
    best, end = 0, 0
    for start, t in enumerate(times):
        while end < len(times) and times[end] < t + period:
            end += 1
        best = max(best, end - start)
    return best


async def run(callers: int, seconds: float, rate: int) -> tuple[list[float], float]:
    bucket = TokenBucket(LimitSpec(rate, 1.0), RealClock())
    grants: list[float] = []
    start = time.monotonic()
    stop = start + seconds

    async def caller() -> None:
        while True:
            await bucket.acquire()
            now = time.monotonic()  # as the caller sees it, right after the grant
            if now >= stop:
                return
            grants.append(now)

    await asyncio.gather(*(caller() for _ in range(callers)))
    return grants, start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--callers", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rate", type=int, default=100, help="tokens per second")
    args = parser.parse_args()
    grants, start = asyncio.run(run(args.callers, args.seconds, args.rate))
    configured = args.rate * args.seconds
    print(f"{args.callers} callers, {args.seconds:g} s, bucket of {args.rate} per 1 s")
    print(f"calls granted:            {len(grants)} (configured {configured:.0f})")
    print(f"achieved / configured:    {len(grants) / configured:.4f}")
    print(f"max calls in any 1-s window: {max_in_window(grants, 1.0)} (limit {args.rate})")
    late = max(grants) - start if grants else 0.0
    print(f"last grant at:            {late:.3f} s")


if __name__ == "__main__":
    main()
