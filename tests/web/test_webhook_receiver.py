"""POST /webhooks/hubspot: signed deliveries from the HubSpot sandbox land in the inbox,
once; anything refused stores nothing and names the problem."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
from sqlalchemy import func, select
from web_helpers import BASE_URL, HOOK_URL, Web, settings_for

from masterops.db.tables import webhook_inbox
from masterops.web import create_app
from masterops_sandbox.hubspot import sign_v3


def _rows(web: Web) -> list[dict[str, Any]]:
    with web.engine.connect() as conn:
        stmt = select(webhook_inbox).order_by(webhook_inbox.c.id)
        return [dict(r._mapping) for r in conn.execute(stmt)]


def _count(web: Web) -> int:
    with web.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(webhook_inbox)).scalar_one())


def _signed(
    web: Web,
    body: bytes,
    *,
    business: str = "teelixir",
    uri: str = HOOK_URL,
    timestamp_ms: int | None = None,
) -> dict[str, str]:
    timestamp = int(time.time() * 1000) if timestamp_ms is None else timestamp_ms
    secret = web.accounts[business].hubspot_client_secret
    return {
        "Content-Type": "application/json",
        "X-HubSpot-Signature-v3": sign_v3(secret, "POST", uri, body, timestamp),
        "X-HubSpot-Request-Timestamp": str(timestamp),
    }


def _event(web: Web, event_id: Any, business: str = "teelixir", **extra: Any) -> dict[str, Any]:
    event = {
        "eventId": event_id,
        "subscriptionId": 7,
        "portalId": web.accounts[business].hubspot_portal_id,
        "appId": 1,
        "occurredAt": 1_767_225_600_000,
        "subscriptionType": "contact.creation",
        "attemptNumber": 0,
        "objectId": 501,
        "changeSource": "CRM_UI",
    }
    event.update(extra)
    return event


async def _post(web: Web, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return await web.client.post(HOOK_URL, content=body, headers=headers)


async def test_sandbox_delivery_lands_in_the_inbox_once(web: Web) -> None:
    web.hubspot.create("teelixir", "contacts", {"email": "ann@example.com"})
    web.hubspot.create("elevate", "contacts", {"email": "bob@example.com"})
    delivered = await web.hubspot.flush_webhooks()
    assert delivered > 0 and web.hubspot.webhooks.pending == []
    assert all(d.status == 200 for d in web.hubspot.webhooks.deliveries)
    rows = _rows(web)
    assert len(rows) == delivered
    sent = [e for d in web.hubspot.webhooks.deliveries for e in d.events]
    assert {r["event_id"] for r in rows} == {str(e["eventId"]) for e in sent}
    assert {r["business_id"] for r in rows} == {"teelixir", "elevate"}
    assert all(r["status"] == "pending" and r["attempts"] == 0 for r in rows)
    creation = next(r for r in rows if r["subscription_type"] == "contact.creation")
    assert creation["payload_json"]["objectId"] == int(creation["object_id"])
    assert creation["occurred_at"].tzinfo is not None

    # HubSpot redelivers a batch it thinks failed: same events, a later attempt.
    for delivery in list(web.hubspot.webhooks.deliveries):
        events = [dict(e, attemptNumber=1) for e in delivery.events]
        body = json.dumps(events).encode()
        first_id = str(events[0]["eventId"])
        business = next(r["business_id"] for r in rows if r["event_id"] == first_id)
        answer = await _post(web, body, _signed(web, body, business=business))
        assert answer.status_code == 200
        assert answer.json() == {"received": len(events), "new": 0}
    assert _rows(web) == rows


async def test_missing_headers_bad_signature_and_stale_timestamp_are_401(web: Web) -> None:
    body = json.dumps([_event(web, 1)]).encode()
    good = _signed(web, body)
    cases = {
        "missing_signature": {k: v for k, v in good.items() if "Signature" not in k},
        "missing_timestamp": {k: v for k, v in good.items() if "Timestamp" not in k},
        "invalid_timestamp": {**good, "X-HubSpot-Request-Timestamp": "yesterday"},
        "bad_signature": {**good, "X-HubSpot-Signature-v3": "c2lnbmF0dXJl"},
        "stale_timestamp": _signed(web, body, timestamp_ms=int(time.time() * 1000) - 300_000),
        "future_timestamp": _signed(web, body, timestamp_ms=int(time.time() * 1000) + 600_000),
    }
    for code, headers in cases.items():
        answer = await _post(web, body, headers)
        assert answer.status_code == 401, code
        assert answer.json()["error"] == code
        assert answer.json()["message"]
        for account in web.accounts.values():
            assert account.hubspot_client_secret not in answer.text
        assert "c2lnbmF0dXJl" not in answer.text
        assert good["X-HubSpot-Signature-v3"] not in answer.text
    # Signed for another URI (a different query) or with a body changed after signing.
    other_uri = _signed(web, body, uri=f"{BASE_URL}/webhooks/hubspot")
    assert (await _post(web, body, other_uri)).json()["error"] == "bad_signature"
    assert (await _post(web, body + b" ", good)).json()["error"] == "bad_signature"
    assert _count(web) == 0
    # The same request, untouched, is accepted: the refusals were for the right reasons.
    assert (await _post(web, body, good)).status_code == 200
    assert _count(web) == 1


async def test_malformed_payloads_are_400_and_store_nothing(web: Web) -> None:
    cases = {
        b'[{"eventId": 1,': "malformed_json",
        b"\xff\xfe": "malformed_json",
        b'{"eventId": 1}': "not_an_array",
        b"[1, 2]": "invalid_event",
        json.dumps([_event(web, 1, occurredAt="noon")]).encode(): "invalid_event",
    }
    for body, code in cases.items():
        answer = await _post(web, body, _signed(web, body))
        assert answer.status_code == 400, body
        assert answer.json()["error"] == code
    assert _count(web) == 0


async def test_a_batch_with_one_bad_event_is_refused_whole(web: Web) -> None:
    first = json.dumps([_event(web, 10), _event(web, 11)]).encode()
    assert (await _post(web, first, _signed(web, first))).json() == {"received": 2, "new": 2}
    bad_event = _event(web, 0)
    del bad_event["eventId"]
    batch = json.dumps([_event(web, 12), bad_event, _event(web, 13)]).encode()
    answer = await _post(web, batch, _signed(web, batch))
    assert answer.status_code == 400
    assert "event 1 has no eventId" in answer.json()["message"]
    assert [r["event_id"] for r in _rows(web)] == ["10", "11"]


async def test_repeated_event_in_one_batch_is_stored_once_for_the_signer(web: Web) -> None:
    # The business is the signer's (a foreign portal is refused: test_webhook_adversarial).
    events = [_event(web, "abc", business="elevate"), _event(web, "abc", business="elevate")]
    events.append(_event(web, "def", business="elevate"))
    body = json.dumps(events).encode()
    answer = await _post(web, body, _signed(web, body, business="elevate"))
    assert answer.json() == {"received": 3, "new": 2}
    assert [(r["event_id"], r["business_id"]) for r in _rows(web)] == [
        ("abc", "elevate"),
        ("def", "elevate"),
    ]


async def test_forwarded_uri_is_signed_only_when_the_proxy_is_trusted(web: Web) -> None:
    public = "https://hooks.example.org/webhooks/hubspot"
    body = json.dumps([_event(web, 1)]).encode()
    headers = {
        **_signed(web, body, uri=public),
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "hooks.example.org",
    }
    internal = "http://10.0.0.5:8080/webhooks/hubspot"
    assert (await web.client.post(internal, content=body, headers=headers)).status_code == 401
    trusting = create_app(web.engine, settings_for(web.accounts, trust_proxy=True))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=trusting)) as client:
        answer = await client.post(internal, content=body, headers=headers)
    assert answer.status_code == 200 and _count(web) == 1


async def test_unconfigured_and_oversized(web: Web) -> None:
    body = json.dumps([_event(web, 1)]).encode()
    bare = create_app(web.engine)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=bare)) as client:
        answer = await client.post(HOOK_URL, content=body, headers=_signed(web, body))
    assert answer.status_code == 503 and answer.json()["error"] == "not_configured"
    small = create_app(web.engine, settings_for(web.accounts, max_webhook_body=10))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=small)) as client:
        answer = await client.post(HOOK_URL, content=body, headers=_signed(web, body))
    assert answer.status_code == 413
    assert (await web.client.get("/webhooks/hubspot")).status_code == 405
    assert _count(web) == 0
