"""Webhook events of the HubSpot sandbox: payloads, v3 signatures, batching and retries."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from hubspot_fixtures import HubSpotRig, assert_error, create_contact, make_rig
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

HOOK_URL = "https://hooks.example.com/hubspot/events?source=sandbox"


@dataclass
class Receiver:
    """An in-process webhook endpoint that records what arrives and can refuse it."""

    requests: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    fail_next: int = 0

    def app(self) -> Starlette:
        async def receive(request: Request) -> Response:
            self.requests.append((str(request.url), dict(request.headers), await request.body()))
            if self.fail_next > 0:
                self.fail_next -= 1
                return Response(status_code=503)
            return Response(status_code=204)

        return Starlette(routes=[Route("/hubspot/events", receive, methods=["POST"])])

    def events(self) -> list[dict[str, Any]]:
        return [event for _, _, body in self.requests for event in json.loads(body)]


@pytest.fixture
async def hooked() -> AsyncIterator[tuple[HubSpotRig, Receiver]]:
    """A rig whose events go in-process to a Receiver, delivered only on flush()."""
    receiver = Receiver()
    transport = httpx.ASGITransport(app=receiver.app())
    async with httpx.AsyncClient(transport=transport) as client:

        async def send(url: str, body: bytes, headers: dict[str, str]) -> int:
            return (await client.post(url, content=body, headers=headers)).status_code

        made = make_rig(webhook_url=HOOK_URL, send_webhook=send, auto_deliver_webhooks=False)
        yield made, receiver
        for api_client in made.clients:
            await api_client.aclose()
        await made.sandbox.aclose()


def _expected_signature(secret: str, uri: str, body: bytes, timestamp: str) -> str:
    """The documented v3 formula, written out independently of the sandbox."""
    source = b"POST" + uri.encode() + body + timestamp.encode()
    return base64.b64encode(hmac.new(secret.encode(), source, hashlib.sha256).digest()).decode()


async def test_signature_verifies_with_the_documented_formula(
    hooked: tuple[HubSpotRig, Receiver],
) -> None:
    made, receiver = hooked
    await create_contact(made.client(), "a@example.com")
    assert await made.sandbox.flush_webhooks() > 0
    uri, headers, body = receiver.requests[0]
    assert uri == HOOK_URL
    timestamp = headers["x-hubspot-request-timestamp"]
    assert int(timestamp) == int(made.now().timestamp() * 1000)
    secret = made.accounts["teelixir"].hubspot_client_secret
    expected = _expected_signature(secret, uri, body, timestamp)
    assert hmac.compare_digest(headers["x-hubspot-signature-v3"], expected)
    assert headers["content-type"] == "application/json"
    other = made.accounts["elevate"].hubspot_client_secret
    assert headers["x-hubspot-signature-v3"] != _expected_signature(other, uri, body, timestamp)


async def test_creation_update_and_deletion_events(hooked: tuple[HubSpotRig, Receiver]) -> None:
    made, receiver = hooked
    api = made.client()
    contact = await create_contact(api, "a@example.com", firstname="Ann")
    made.now.advance(seconds=30)
    await api.patch(
        f"/crm/v3/objects/contacts/{contact}", json={"properties": {"firstname": "Anne"}}
    )
    await api.delete(f"/crm/v3/objects/contacts/{contact}")
    await made.sandbox.flush_webhooks()
    events = receiver.events()
    kinds = [(e["subscriptionType"], e.get("propertyName")) for e in events]
    assert kinds == [
        ("contact.creation", None),
        ("contact.propertyChange", "email"),
        ("contact.propertyChange", "firstname"),
        ("contact.propertyChange", "firstname"),
        ("contact.deletion", None),
    ]
    creation = events[0]
    portal = made.sandbox.portal("teelixir")
    assert creation["objectId"] == int(contact)
    assert creation["portalId"] == made.accounts["teelixir"].hubspot_portal_id
    assert creation["appId"] == portal.app_id
    assert creation["attemptNumber"] == 0
    assert creation["changeSource"] and creation["subscriptionId"]
    assert isinstance(creation["eventId"], int)
    assert events[3]["propertyValue"] == "Anne"
    assert events[3]["occurredAt"] - creation["occurredAt"] == 30_000
    assert len({e["eventId"] for e in events}) == len(events)


async def test_other_object_types_name_their_events(hooked: tuple[HubSpotRig, Receiver]) -> None:
    made, receiver = hooked
    api = made.client()
    await api.post("/crm/v3/objects/deals", json={"properties": {}})
    await api.post("/crm/v3/objects/line_items", json={"properties": {}})
    await made.sandbox.flush_webhooks()
    assert [e["subscriptionType"] for e in receiver.events()] == [
        "deal.creation",
        "line_item.creation",
    ]


async def test_subscriptions_filter_property_changes(hooked: tuple[HubSpotRig, Receiver]) -> None:
    made, receiver = hooked
    made.sandbox.clear_subscriptions("teelixir")
    made.sandbox.subscribe("teelixir", "contact.propertyChange", "lifecyclestage")
    api = made.client()
    contact = await create_contact(api, "a@example.com", firstname="Ann")
    await api.patch(
        f"/crm/v3/objects/contacts/{contact}",
        json={"properties": {"firstname": "X", "lifecyclestage": "customer"}},
    )
    await made.sandbox.flush_webhooks()
    events = receiver.events()
    assert [(e["propertyName"], e["propertyValue"]) for e in events] == [
        ("lifecyclestage", "customer")
    ]


async def test_events_are_batched_by_100(hooked: tuple[HubSpotRig, Receiver]) -> None:
    made, receiver = hooked
    made.sandbox.clear_subscriptions("teelixir")
    made.sandbox.subscribe("teelixir", "product.creation")
    api = made.client()
    for start in (0, 100):
        inputs = [{"properties": {"name": f"P{start + i}"}} for i in range(75)]
        await api.post("/crm/v3/objects/products/batch/create", json={"inputs": inputs})
    assert len(made.sandbox.webhooks.pending) == 150
    assert await made.sandbox.flush_webhooks() == 150
    assert [len(json.loads(body)) for _, _, body in receiver.requests] == [100, 50]
    assert made.sandbox.webhooks.pending == []


async def test_failed_delivery_is_retried_with_a_higher_attempt_number(
    hooked: tuple[HubSpotRig, Receiver],
) -> None:
    made, receiver = hooked
    receiver.fail_next = 1
    await made.client().post("/crm/v3/objects/companies", json={"properties": {}})
    assert await made.sandbox.flush_webhooks() == 0
    assert [e["attemptNumber"] for e in made.sandbox.webhooks.pending] == [1]
    assert await made.sandbox.flush_webhooks() == 1
    attempts = [json.loads(body)[0]["attemptNumber"] for _, _, body in receiver.requests]
    assert attempts == [0, 1]
    assert made.harness.state()["webhooks"] == {"pending": 0, "delivered": 1, "dead": 0}


async def test_delivery_gives_up_after_max_attempts(hooked: tuple[HubSpotRig, Receiver]) -> None:
    made, receiver = hooked
    made.sandbox.webhooks.max_attempts = 3
    receiver.fail_next = 10
    await made.client().post("/crm/v3/objects/companies", json={"properties": {}})
    for _ in range(3):
        await made.sandbox.flush_webhooks()
    assert made.sandbox.webhooks.pending == []
    assert len(made.sandbox.webhooks.dead) == 1
    assert len(receiver.requests) == 3


async def test_a_sender_that_raises_counts_as_a_failure() -> None:
    async def broken(url: str, body: bytes, headers: dict[str, str]) -> int:
        raise httpx.ConnectError("refused")

    made = make_rig(webhook_url=HOOK_URL, send_webhook=broken, auto_deliver_webhooks=False)
    made.sandbox.create("teelixir", "companies", {"name": "Acme"})
    assert await made.sandbox.flush_webhooks() == 0
    assert made.sandbox.webhooks.deliveries[-1].status is None
    assert made.sandbox.webhooks.pending[0]["attemptNumber"] == 1


async def test_no_target_means_no_events(rig_without_hooks: HubSpotRig) -> None:
    await create_contact(rig_without_hooks.client(), "a@example.com")
    assert rig_without_hooks.sandbox.webhooks.pending == []


@pytest.fixture
def rig_without_hooks() -> HubSpotRig:
    return make_rig()


async def test_background_delivery(hooked: tuple[HubSpotRig, Receiver]) -> None:
    made, receiver = hooked
    made.sandbox.webhooks.auto_deliver = True
    await create_contact(made.client(), "a@example.com")
    for _ in range(100):  # the delivery task runs as soon as the test yields
        if not made.sandbox.webhooks.pending:
            break
        await asyncio.sleep(0.01)
    assert made.sandbox.webhooks.pending == []
    assert receiver.events()[0]["subscriptionType"] == "contact.creation"


async def test_target_and_subscriptions_through_the_webhooks_api(
    hooked: tuple[HubSpotRig, Receiver],
) -> None:
    made, receiver = hooked
    made.sandbox.set_webhook_url(None)
    api = made.client("elevate")
    app_id = made.sandbox.portal("elevate").app_id
    base = f"/webhooks/v3/{app_id}"
    assert (await api.get(f"{base}/settings")).status_code == 404
    settings = await api.put(f"{base}/settings", json={"targetUrl": HOOK_URL})
    assert settings.json()["targetUrl"] == HOOK_URL
    subscriptions = (await api.get(f"{base}/subscriptions")).json()["results"]
    for subscription in subscriptions:
        deleted = await api.delete(f"{base}/subscriptions/{subscription['id']}")
        assert deleted.status_code == 204
    created = await api.post(f"{base}/subscriptions", json={"eventType": "deal.creation"})
    assert created.status_code == 201
    bad = await api.post(f"{base}/subscriptions", json={"eventType": "deal.exploded"})
    assert_error(bad, 400, "VALIDATION_ERROR")
    assert (await api.get("/webhooks/v3/1/settings")).status_code == 404  # not this portal's app
    await api.post("/crm/v3/objects/contacts", json={"properties": {}})
    await api.post("/crm/v3/objects/deals", json={"properties": {"dealname": "D"}})
    await made.sandbox.flush_webhooks()
    events = receiver.events()
    assert [e["subscriptionType"] for e in events] == ["deal.creation"]
    assert events[0]["portalId"] == made.accounts["elevate"].hubspot_portal_id
    _, headers, body = receiver.requests[0]
    secret = made.accounts["elevate"].hubspot_client_secret
    timestamp = headers["x-hubspot-request-timestamp"]
    expected = _expected_signature(secret, HOOK_URL, body, timestamp)
    assert headers["x-hubspot-signature-v3"] == expected


async def test_bulk_load_sends_no_events(hooked: tuple[HubSpotRig, Receiver]) -> None:
    made, _ = hooked
    made.sandbox.bulk_load("teelixir", "contacts", [{"email": f"{i}@x.com"} for i in range(10)])
    assert made.sandbox.webhooks.pending == []
