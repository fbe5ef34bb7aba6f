"""Resident memory each sandbox service takes for about 100,000 seeded records.

Run: ``.venv/bin/python bench/sandbox_memory.py [--records 100000]``

Each case runs in a fresh interpreter (RSS never shrinks, so cases must not share a
process): it reads VmRSS from /proc/self/status, builds the service, reads it again.
The baseline is the same number of plain Python dicts of ten fields, the cheapest
honest way to hold that many records. Target: under 500 MB per service.

- n8n: ``build_n8n(..., executions=N)`` seeds N executions (plus 18 workflows, 8 tags);
- unleashed: the seed volume is scaled until products, stock lines, customers and
  orders of the four businesses add up to N;
- hubspot: the imitation starts empty, so N contacts are bulk-loaded over the four portals.
Prints figures, asserts nothing.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

TARGET_MB = 500.0


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def build(case: str, records: int) -> tuple[Any, int]:
    """Build one case; returns what must stay alive and how many records it holds."""
    if case == "baseline":
        rows = [
            {f"field{k}": f"value {i} {k}" if k % 2 else i * k for k in range(10)}
            for i in range(records)
        ]
        return rows, len(rows)
    if case == "n8n":
        from masterops_sandbox.n8n import build_n8n

        n8n, n8n_harness = build_n8n("bench-key", executions=records)
        store = n8n.store
        held = len(store.executions) + len(store.workflows) + len(store.tags)
        return (n8n, n8n_harness), held
    from masterops_sandbox.accounts import sandbox_accounts

    accounts = sandbox_accounts(0)
    if case == "unleashed":
        from masterops_sandbox.unleashed import build_unleashed

        volume = unleashed_volume(records)
        unleashed, unleashed_harness = build_unleashed(accounts, volume=volume)
        return (unleashed, unleashed_harness), unleashed_records(unleashed)
    if case == "hubspot":
        from masterops_sandbox.hubspot import build_hubspot

        hubspot, hubspot_harness = build_hubspot(accounts)
        per_portal = math.ceil(records / len(accounts))
        for business in accounts:
            hubspot.bulk_load(
                business,
                "contacts",
                (
                    {
                        "email": f"{business}.{i}@example.com",
                        "firstname": f"First{i}",
                        "lastname": f"Last{i}",
                        "phone": f"+61 3 9{i:07d}",
                        "company": f"Customer {i % 997}",
                    }
                    for i in range(per_portal)
                ),
            )
        held = sum(hubspot.count(b, "contacts") for b in accounts)
        return (hubspot, hubspot_harness), held
    raise SystemExit(f"unknown case {case!r}")


def unleashed_records(sandbox: Any) -> int:
    return sum(
        n
        for counts in sandbox.counts().values()
        for kind, n in counts.items()
        if not kind.startswith("quota")
    )


def unleashed_volume(records: int) -> int:
    """The seed volume that yields about ``records`` records (measured at a small volume)."""
    from masterops_sandbox.accounts import sandbox_accounts
    from masterops_sandbox.unleashed import UnleashedSandbox

    sample = 50
    per_volume = unleashed_records(UnleashedSandbox(sandbox_accounts(0), volume=sample)) / sample
    return max(1, round(records / per_volume))


def child(case: str, records: int) -> None:
    gc.collect()
    before = rss_mb()
    started = time.perf_counter()
    kept, held = build(case, records)
    seconds = time.perf_counter() - started
    gc.collect()
    after = rss_mb()
    print(json.dumps({"case": case, "records": held, "mb": after - before, "seconds": seconds}))
    del kept


def main(records: int) -> None:
    results = {}
    for case in ("baseline", "n8n", "unleashed", "hubspot"):
        out = subprocess.run(
            [sys.executable, __file__, "--child", case, "--records", str(records)],
            check=True,
            capture_output=True,
            text=True,
        )
        results[case] = json.loads(out.stdout.strip().splitlines()[-1])
    base = results["baseline"]
    base_per_record = base["mb"] / base["records"]
    print(f"records asked for: {records:,}; target < {TARGET_MB:.0f} MB per service")
    for case, r in results.items():
        ratio = (r["mb"] / r["records"]) / base_per_record
        verdict = (
            ""
            if case == "baseline"
            else ("  meets the target" if r["mb"] < TARGET_MB else "  ABOVE the target")
        )
        print(
            f"{case:10} {r['records']:>9,} records  +{r['mb']:7.1f} MB RSS"
            f"  ({r['mb'] * 1024 * 1024 / r['records']:6.0f} B/record, x{ratio:4.2f} baseline)"
            f"  built in {r['seconds']:5.2f} s{verdict}"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.records)
    else:
        main(args.records)
