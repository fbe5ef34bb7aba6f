"""What keeping the sandbox's state in a folder costs, against the same work in memory.

1. Snapshot of the demo-sized sandbox (volume 300, 600 executions, HubSpot filled with
   ``--contacts`` contacts per business): to_state + JSON write, and read + load_state,
   per service, in milliseconds.
2. ``--batches`` HubSpot batch upserts of 100 contacts through the in-process transport:
   on a plain ``Sandbox`` (the baseline) and on ``persisted_sandbox`` (lock, lease and
   writes included). Prints both times and their ratio, and how many files were written.

    .venv/bin/python bench/sandbox_state.py [--contacts 150] [--batches 40]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

import httpx

from masterops_sandbox.persist import SandboxState
from masterops_sandbox.server import SERVICES, Sandbox


def _fill(box: Sandbox, contacts: int) -> None:
    for business in box.accounts:
        rows = [{"email": f"c{i}@{business}.example"} for i in range(contacts)]
        box.hubspot_api.bulk_load(business, "contacts", rows)


def snapshot_costs(box: Sandbox, folder: Path) -> None:
    print("service     size KB   save ms   load ms")
    for service in SERVICES:
        path = folder / f"{service}.json"
        started = time.perf_counter()
        path.write_text(json.dumps(box.to_state(service), separators=(",", ":")))
        saved = time.perf_counter()
        box.load_state(service, json.loads(path.read_bytes()))
        loaded = time.perf_counter()
        print(
            f"{service:10} {path.stat().st_size / 1024:8.0f} {(saved - started) * 1e3:9.1f}"
            f" {(loaded - saved) * 1e3:9.1f}"
        )


async def _upserts(box: Sandbox, batches: int) -> float:
    token = box.accounts["teelixir"].hubspot_token
    box.hubspot_api.set_ten_second_limit("teelixir", 10**9)  # measure the state, not limits
    async with httpx.AsyncClient(
        transport=box.transport("hubspot"), base_url="http://sandbox.local"
    ) as client:
        started = time.perf_counter()
        for batch in range(batches):
            inputs = [
                {"id": f"u{batch}-{i}@x.example", "idProperty": "email",
                 "properties": {"firstname": "B"}}
                for i in range(100)
            ]  # fmt: skip
            answer = await client.post(
                "/crm/v3/objects/contacts/batch/upsert",
                json={"inputs": inputs},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert answer.status_code in (200, 201), answer.text
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=150)
    parser.add_argument("--batches", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        box = Sandbox()
        _fill(box, args.contacts)
        snapshot_costs(box, folder)

        plain = Sandbox()
        _fill(plain, args.contacts)
        baseline = asyncio.run(_upserts(plain, args.batches))

        persisted = Sandbox()
        _fill(persisted, args.contacts)
        state = SandboxState(folder / "state", persisted)
        state.open()
        persisted.set_guard(state.guard)
        try:
            kept = asyncio.run(_upserts(persisted, args.batches))
        finally:
            state.close()
        print(f"{args.batches} batch upserts of 100: in memory {baseline * 1e3:.0f} ms, "
              f"persisted {kept * 1e3:.0f} ms, ratio {kept / baseline:.2f}x, "
              f"files written {state.saves}")  # fmt: skip


if __name__ == "__main__":
    main()
