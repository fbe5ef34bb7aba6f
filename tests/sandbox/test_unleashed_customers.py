"""Contract: /Customers (api-facts.md, "Unleashed")."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from unleashed_fixtures import *  # noqa: F403
from unleashed_fixtures import Clock, UnleashedClient, wire_ms

from masterops_sandbox.unleashed import UnleashedSandbox


async def test_customer_fields_and_obsolete_default(
    teelixir: UnleashedClient, sandbox: UnleashedSandbox
) -> None:
    items = await teelixir.all_items("/Customers", {"pageSize": 1000})
    live = sandbox.customers("teelixir", include_obsolete=False)
    assert len(items) == len(live)
    for field in (
        "Guid",
        "CustomerCode",
        "CustomerName",
        "Email",
        "ContactFirstName",
        "ContactLastName",
        "Currency",
        "Obsolete",
        "LastModifiedOn",
    ):
        assert field in items[0]
    assert "CurrencyCode" in items[0]["Currency"]
    assert not any(item["Obsolete"] for item in items)
    everything = await teelixir.all_items("/Customers", {"includeObsolete": "true"})
    assert len(everything) == len(sandbox.customers("teelixir"))


async def test_customer_filters(teelixir: UnleashedClient, sandbox: UnleashedSandbox) -> None:
    target = next(
        c for c in sandbox.customers("teelixir", include_obsolete=False) if c.email is not None
    )
    assert target.email is not None

    by_code = await teelixir.all_items("/Customers", {"customerCode": target.code[:3].lower()})
    assert target.guid in {item["Guid"] for item in by_code}
    assert all(item["CustomerCode"].startswith(target.code[:3]) for item in by_code)

    word = target.name.split()[-1]
    by_name = await teelixir.all_items("/Customers", {"customerName": word.upper()})
    assert target.guid in {item["Guid"] for item in by_name}
    assert all(word.casefold() in item["CustomerName"].casefold() for item in by_name)

    by_email = await teelixir.all_items("/Customers", {"contactEmail": target.email.upper()})
    assert target.guid in {item["Guid"] for item in by_email}
    assert all(item["Email"].casefold() == target.email.casefold() for item in by_email)


async def test_customer_modified_since(
    teelixir: UnleashedClient, sandbox: UnleashedSandbox, clock: Clock
) -> None:
    customer = sandbox.customers("teelixir", include_obsolete=False)[0]
    clock.advance(days=1)  # 2026-03-16 10:30
    sandbox.update_customer("teelixir", customer.code, email="new@example.com")
    items = await teelixir.all_items("/Customers", {"modifiedSince": "2026-03-16T12:00:00"})
    assert [item["Guid"] for item in items] == [customer.guid]
    assert items[0]["Email"] == "new@example.com"


async def test_get_create_update_customer(
    client_for: Callable[[str], UnleashedClient], sandbox: UnleashedSandbox
) -> None:
    client = client_for("rhf")
    existing = sandbox.customers("rhf")[0]
    got = await client.get(f"/Customers/{existing.guid}")
    assert got.json() == sandbox.to_json(existing)
    assert (await client.get(f"/Customers/{uuid.uuid4()}")).status_code == 404

    guid = str(uuid.uuid4())
    body = {
        "CustomerCode": "RHF-NEW-1",
        "CustomerName": "Peninsula Pantry",
        "Email": "hello@peninsulapantry.com.au",
        "Currency": {"CurrencyCode": "AUD"},
    }
    created = await client.post(f"/Customers/{guid}", body)
    assert created.status_code == 201
    assert created.json()["Guid"] == guid
    assert created.json()["Currency"] == {"CurrencyCode": "AUD"}
    updated = await client.post(f"/Customers/{guid}", {"ContactFirstName": "Jo"})
    assert updated.status_code == 200
    assert updated.json()["ContactFirstName"] == "Jo"
    assert wire_ms(updated.json()["LastModifiedOn"]) >= wire_ms(created.json()["LastModifiedOn"])

    duplicate = await client.post(
        f"/Customers/{uuid.uuid4()}", {"CustomerCode": "rhf-new-1", "CustomerName": "Twin"}
    )
    assert duplicate.status_code == 400
    assert "CustomerCode" in duplicate.json()["description"]
