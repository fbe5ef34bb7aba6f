"""The sandbox's state kept in a folder: snapshots that restore every service, and
processes that share the folder without losing an update."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import httpx
import pytest

from masterops_sandbox.folderlock import FolderLock
from masterops_sandbox.persist import (
    SandboxState,
    SandboxStateError,
    persisted_sandbox,
    reset_state,
    state_files,
)
from masterops_sandbox.server import SERVICES, Sandbox
from masterops_sandbox.unleashed import sign

VOLUME = 15


def _client(box: Sandbox, service: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=box.transport(service), base_url="http://sandbox.local")


def _hubspot_headers(box: Sandbox, business: str = "teelixir") -> dict[str, str]:
    return {"Authorization": f"Bearer {box.accounts[business].hubspot_token}"}


async def _create_contact(box: Sandbox, email: str) -> str:
    async with _client(box, "hubspot") as client:
        answer = await client.post(
            "/crm/v3/objects/contacts",
            json={"properties": {"email": email}},
            headers=_hubspot_headers(box),
        )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


async def _contact_emails(box: Sandbox) -> list[str]:
    async with _client(box, "hubspot") as client:
        answer = await client.get(
            "/crm/v3/objects/contacts?limit=100&properties=email", headers=_hubspot_headers(box)
        )
    assert answer.status_code == 200, answer.text
    return sorted(r["properties"]["email"] for r in answer.json()["results"])


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def _dump(box: Sandbox, service: str) -> str:
    return json.dumps(box.to_state(service), sort_keys=True)


async def test_a_snapshot_restores_every_service_and_its_counters() -> None:
    box = Sandbox(seed=3, volume=VOLUME)
    # HubSpot: a custom unique property, records, an association, an archived record.
    hubspot = box.hubspot_api
    hubspot.add_property("teelixir", "contacts", "loyalty_id", unique=True)
    contact = await _create_contact(box, "ada@example.com")
    company = hubspot.create("teelixir", "companies", {"name": "Acme"})
    hubspot.associate("teelixir", "contacts", contact, "companies", company)
    gone = hubspot.create("teelixir", "contacts", {"email": "gone@example.com"})
    hubspot.archive("teelixir", "contacts", gone)
    # Unleashed: a product, an order and quota used.
    unleashed = box.unleashed_api
    product = unleashed.create_product("teelixir", "SNAP-1", "Snapshot tea")
    customer = unleashed.customers("teelixir")[0]
    order = unleashed.create_order("teelixir", customer.guid, [("SNAP-1", 2)])
    unleashed.set_quota_used("teelixir", 1234)
    # n8n: an activated workflow and an execution.
    n8n = box.n8n_api
    workflow = n8n.workflows()[0]
    n8n.run(workflow["id"])

    restored = Sandbox(seed=3, volume=VOLUME)
    for service in SERVICES:
        restored.load_state(service, json.loads(json.dumps(box.to_state(service))))
        assert _dump(restored, service) == _dump(box, service), service

    # What the API answers is the same...
    assert await _contact_emails(restored) == ["ada@example.com"]
    assert restored.hubspot_api.associated_ids("teelixir", "contacts", contact, "companies") == [
        company
    ]
    assert restored.hubspot_api.get("teelixir", "contacts", gone)["archived"]  # type: ignore[index]
    assert restored.hubspot_api.find("teelixir", "contacts", "email", "ada@example.com")
    teelixir = restored.accounts["teelixir"]
    async with _client(restored, "unleashed") as client:
        answer = await client.get(
            f"/Products/{product.guid}",
            headers={
                "api-auth-id": teelixir.unleashed_api_id,
                "api-auth-signature": sign(teelixir.unleashed_api_key, ""),
                "Accept": "application/json",
            },
        )
    assert answer.status_code == 200 and answer.json()["ProductCode"] == "SNAP-1"
    assert restored.unleashed_api.order("teelixir", order.number).customer.guid == customer.guid
    assert restored.unleashed_api.quota_used("teelixir") == 1235  # the GET above counted
    assert len(restored.n8n_api.executions()) == len(n8n.executions())
    # ...and the id counters go on where they were: the next ids are the same in both.
    assert await _create_contact(restored, "b@example.com") == await _create_contact(
        box, "b@example.com"
    )
    assert (
        restored.unleashed_api.create_product("teelixir", "SNAP-2", "Two").guid
        == unleashed.create_product("teelixir", "SNAP-2", "Two").guid
    )
    assert restored.n8n_api.run(workflow["id"])["id"] == n8n.run(workflow["id"])["id"]


async def test_a_second_opening_sees_what_the_first_did(tmp_path: Path) -> None:
    with persisted_sandbox(tmp_path, seed=1, volume=VOLUME) as first:
        created = await _create_contact(first, "kept@example.com")
    assert _names(tmp_path) == [
        "hubspot.json",
        "n8n.json",
        "sandbox.lock",
        "unleashed.json",
    ]
    with persisted_sandbox(tmp_path, seed=1, volume=VOLUME) as second:
        assert await _contact_emails(second) == ["kept@example.com"]
        assert second.hubspot_api.get("teelixir", "contacts", created) is not None
    # A different seed is refused in one clear line rather than mixed in.
    with (
        pytest.raises(SandboxStateError, match="was made with seed 1 and volume 15"),
        persisted_sandbox(tmp_path, seed=2, volume=VOLUME),
    ):
        pass


async def test_a_long_running_process_persists_while_it_runs(tmp_path: Path) -> None:
    """Like `ops worker` beside `ops sync`: the first opening stays open, yet the second
    sees its change (it gets the lock once the first hands it back, file written)."""
    with persisted_sandbox(tmp_path, seed=1, volume=VOLUME) as worker:
        await _create_contact(worker, "from-worker@example.com")
        with persisted_sandbox(tmp_path, seed=1, volume=VOLUME) as sync:
            assert await _contact_emails(sync) == ["from-worker@example.com"]
            await _create_contact(sync, "from-sync@example.com")
        # The worker's next request runs on what the sync wrote.
        assert await _contact_emails(worker) == ["from-sync@example.com", "from-worker@example.com"]


_WRITER = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    import httpx
    from masterops_sandbox.persist import persisted_sandbox

    async def main(folder: Path, name: str, count: int) -> None:
        with persisted_sandbox(folder, seed=1, volume=15) as box:
            token = box.accounts["teelixir"].hubspot_token
            async with httpx.AsyncClient(
                transport=box.transport("hubspot"), base_url="http://sandbox.local"
            ) as client:
                for i in range(count):
                    answer = await client.post(
                        "/crm/v3/objects/contacts",
                        json={"properties": {"email": f"{name}-{i}@example.com"}},
                        headers={"Authorization": f"Bearer {token}"},
                    )
                    assert answer.status_code == 201, answer.text

    asyncio.run(main(Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])))
    """
)


def test_two_processes_writing_at_once_lose_no_update(tmp_path: Path) -> None:
    with persisted_sandbox(tmp_path, seed=1, volume=VOLUME):
        pass  # seeded once, so both writers start from the files
    count = 40
    writers = [
        subprocess.Popen([sys.executable, "-c", _WRITER, str(tmp_path), name, str(count)])
        for name in ("left", "right")
    ]
    assert [w.wait(timeout=120) for w in writers] == [0, 0]
    with persisted_sandbox(tmp_path, seed=1, volume=VOLUME) as box:
        records = box.hubspot_api.records("teelixir", "contacts")
    emails = [r["properties"]["email"] for r in records]
    ids = [r["id"] for r in records]
    assert len(emails) == 2 * count
    assert {e.split("-")[0] for e in emails} == {"left", "right"}
    assert len(set(ids)) == len(ids)  # no id handed out twice


def test_waiting_for_the_lock_says_so_once(tmp_path: Path) -> None:
    with persisted_sandbox(tmp_path, seed=1, volume=VOLUME):
        pass
    holder = FolderLock(tmp_path, on_wait=print)
    holder.open()
    holder.lock()
    said: list[str] = []
    heard = threading.Event()

    def on_wait(message: str) -> None:
        said.append(message)
        heard.set()

    opened = threading.Event()

    def open_it() -> None:
        with persisted_sandbox(tmp_path, seed=1, volume=VOLUME, on_wait=on_wait, notice_after=0):
            opened.set()

    waiter = threading.Thread(target=open_it)
    waiter.start()
    try:
        assert heard.wait(timeout=30)
        assert not opened.is_set()
    finally:
        holder.close()  # lets go of the lock
    waiter.join(timeout=30)
    assert opened.is_set()
    assert said == [
        f"waiting for the sandbox state in {tmp_path}: process {os.getpid()} is using it"
    ]


async def test_a_request_given_up_while_waiting_leaves_no_lock_behind(tmp_path: Path) -> None:
    with persisted_sandbox(tmp_path, seed=1, volume=VOLUME) as box:
        holder = FolderLock(tmp_path, on_wait=print)  # another process, as far as flock knows
        holder.open()
        holder.lock()
        try:
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(_contact_emails(box), timeout=0.2)
        finally:
            holder.close()
        # The abandoned turn was handed back: the next request gets one.
        assert await asyncio.wait_for(_contact_emails(box), timeout=30) == []


async def test_reset_starts_over_even_for_a_process_still_running(tmp_path: Path) -> None:
    with persisted_sandbox(tmp_path, seed=1, volume=VOLUME) as running:
        await _create_contact(running, "old@example.com")
        deleted = reset_state(tmp_path)
        assert sorted(deleted) == sorted(state_files(tmp_path))
        # The running process's next request finds no file: it starts from the seed too.
        assert await _contact_emails(running) == []
    assert reset_state(tmp_path / "nothing-here") == []


def test_an_unreadable_state_file_is_one_clear_error(tmp_path: Path) -> None:
    with persisted_sandbox(tmp_path, seed=1, volume=VOLUME):
        pass
    (tmp_path / "n8n.json").write_text("{ not json")
    with (
        pytest.raises(SandboxStateError) as caught,
        persisted_sandbox(tmp_path, seed=1, volume=VOLUME),
    ):
        pass
    message = str(caught.value)
    assert message.startswith(f"the sandbox state file {tmp_path / 'n8n.json'} is unreadable")
    assert message.endswith("`ops sandbox reset` starts over") and "\n" not in message


def test_python_api_changes_persist_between_begin_and_end(tmp_path: Path) -> None:
    """What tests and scripts use to change what the HTTP API cannot (scopes, limits)."""
    box = Sandbox(seed=1, volume=VOLUME)
    state = SandboxState(tmp_path, box)
    state.open()
    state.begin()
    box.hubspot_api.remove_scopes("elevate", "crm.objects.contacts.write")
    state.end("hubspot", changed=True)
    state.close()
    with persisted_sandbox(tmp_path, seed=1, volume=VOLUME) as again:
        assert "crm.objects.contacts.write" not in again.hubspot_api.scopes("elevate")
        assert "crm.objects.contacts.write" in again.hubspot_api.scopes("teelixir")
