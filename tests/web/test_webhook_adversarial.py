"""Regression tests for the defects an adversarial run found in the HTTP service: a
delivery acting on another business, a body read whole before its limit, 500s with
tracebacks, one poison event blocking a batch forever, and a wrong ``"new"`` count."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
from sqlalchemy import select
from web_helpers import HOOK_URL, Web, settings_for

from masterops.db.tables import webhook_inbox
from masterops.web import create_app
from masterops_sandbox.hubspot import sign_v3


def _rows(web: Web) -> list[dict[str, Any]]:
    with web.engine.connect() as conn:
        stmt = select(webhook_inbox).order_by(webhook_inbox.c.id)
        return [dict(r._mapping) for r in conn.execute(stmt)]


def _signed(web: Web, body: bytes, business: str = "teelixir") -> dict[str, str]:
    timestamp = int(time.time() * 1000)
    secret = web.accounts[business].hubspot_client_secret
    return {
        "Content-Type": "application/json",
        "X-HubSpot-Signature-v3": sign_v3(secret, "POST", HOOK_URL, body, timestamp),
        "X-HubSpot-Request-Timestamp": str(timestamp),
    }


def _event(web: Web, event_id: Any, business: str = "teelixir", **extra: Any) -> dict[str, Any]:
    event = {
        "eventId": event_id,
        "portalId": web.accounts[business].hubspot_portal_id,
        "occurredAt": 1_767_225_600_000,
        "subscriptionType": "deal.propertyChange",
        "objectId": 501,
    }
    event.update(extra)
    return event


async def _post(web: Web, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return await web.client.post(HOOK_URL, content=body, headers=headers)


async def test_the_signer_decides_the_business_and_a_foreign_portal_is_refused(web: Web) -> None:
    # Signed with teelixir's secret, carrying elevate's portal id: refused, nothing stored.
    forged = json.dumps([_event(web, 1), _event(web, 2, business="elevate")]).encode()
    answer = await _post(web, forged, _signed(web, forged))
    assert answer.status_code == 403
    assert answer.json()["error"] == "portal_mismatch"
    assert "event 1" in answer.json()["message"]
    # A portal no business owns is refused too.
    unknown = json.dumps([_event(web, 3, portalId=999)]).encode()
    answer = await _post(web, unknown, _signed(web, unknown))
    assert answer.status_code == 403
    assert answer.json()["error"] == "unknown_portal"
    assert _rows(web) == []
    # The signer's own portal (or none at all) is stored for the signer.
    own = json.dumps([_event(web, 4, business="elevate"), {"eventId": 5}]).encode()
    answer = await _post(web, own, _signed(web, own, business="elevate"))
    assert answer.status_code == 200
    assert [(r["event_id"], r["business_id"]) for r in _rows(web)] == [
        ("4", "elevate"),
        ("5", "elevate"),
    ]


async def test_a_chunked_body_over_the_limit_is_refused_after_reading_about_the_limit(
    web: Web,
) -> None:
    limit, chunk = 64 * 1024, 8 * 1024
    pulled = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal pulled
        for _ in range(50 * 1024 * 1024 // chunk):  # 50 MiB if read whole
            pulled += chunk
            yield b" " * chunk

    small = create_app(web.engine, settings_for(web.accounts, max_webhook_body=limit))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=small)) as client:
        answer = await client.post(HOOK_URL, content=body(), headers=_signed(web, b""))
    assert answer.status_code == 413
    assert answer.json()["error"] == "too_large"
    assert pulled <= limit + chunk
    assert _rows(web) == []


async def test_deeply_nested_json_is_a_400_not_a_500(web: Web) -> None:
    depth = 200_000
    nested = b"[" * depth + b"]" * depth
    inside = b'[{"eventId": 1, "x": ' + nested + b"}]"
    for body in (nested, inside):
        answer = await _post(web, body, _signed(web, body))
        assert answer.status_code == 400
        assert answer.json()["error"] == "malformed_json"
        assert "deep" in answer.json()["message"]
    assert _rows(web) == []


async def test_a_poison_event_is_parked_and_the_rest_of_its_batch_is_stored(web: Web) -> None:
    poison = _event(web, 2, objectId="50\u00001", note="a\u0000b")
    batch = json.dumps([_event(web, 1), poison, _event(web, 3)]).encode()
    for attempt in range(2):  # a redelivery changes nothing
        answer = await _post(web, batch, _signed(web, batch))
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"received": 3, "new": 3 if attempt == 0 else 0}
    rows = {r["event_id"]: r for r in _rows(web)}
    assert sorted(rows) == ["1", "2", "3"]
    assert rows["1"]["status"] == rows["3"]["status"] == "pending"
    parked = rows["2"]
    assert parked["status"] == "failed"
    assert "NUL" in parked["error"]
    assert parked["business_id"] == "teelixir"
    assert parked["payload_json"]["note"] == "a\ufffdb"
    assert parked["object_id"] == "50\ufffd1"


async def test_the_new_count_is_exact_under_concurrent_identical_deliveries(web: Web) -> None:
    batch = json.dumps([_event(web, n) for n in (1, 2, 3)]).encode()
    headers = _signed(web, batch)
    answers = await asyncio.gather(*(_post(web, batch, headers) for _ in range(16)))
    assert [a.status_code for a in answers] == [200] * 16
    assert sum(a.json()["new"] for a in answers) == 3
    assert len(_rows(web)) == 3


async def test_query_values_the_database_cannot_hold_are_a_400(web: Web) -> None:
    for path in ("/api/v1/logs", "/api/v1/sync/runs", "/api/v1/webhooks/inbox"):
        answer = await web.client.get(path, params={"business": "\x00"})
        assert answer.status_code == 400, path
        assert answer.json()["error"] == "bad_request"
        assert "business" in answer.json()["message"]
    answer = await web.client.get("/api/v1/logs", params={"since": "99999999d"})
    assert answer.status_code == 400
    assert "since" in answer.json()["message"]
