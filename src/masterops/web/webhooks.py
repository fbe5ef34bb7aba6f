"""``POST /webhooks/hubspot``: verify HubSpot's v3 signature, store the events, answer.

Nothing is processed here: the events go to the webhook inbox in one transaction (shared
with the deliveries that arrive at the same moment: ``group_commit.py``) and the answer
follows the commit, so HubSpot never times out and retries because our processing was
slow. Every refusal stores nothing; every acceptance stores the whole batch.

The signature is ``base64(HMAC-SHA256(client_secret, method + uri + body + timestamp))``
over the URI HubSpot called, which is the URI as it reached us (or, behind a trusted
proxy, as the proxy received it). Each configured client secret is tried, all in
constant time; the one that matches tells which app sent the delivery.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request
from starlette.responses import Response

from masterops.web.group_commit import GroupCommit
from masterops.web.inbox import InboxEvent, StoreResult
from masterops.web.nul import NUL_REASON, without_nul
from masterops.web.responses import JSON, BadRequest, error, parse_json_body, read_limited
from masterops.web.settings import WebSettings

SIGNATURE_HEADER = "x-hubspot-signature-v3"
TIMESTAMP_HEADER = "x-hubspot-request-timestamp"


class Unauthorized(BadRequest):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message, status=401, code=code)


def signed_uri(request: Request, *, trust_proxy: bool) -> str:
    """The full URI the sender signed: scheme, host, path and query as requested."""
    url = request.url
    scheme, netloc = url.scheme, url.netloc
    if trust_proxy:
        # A proxy chain lists the original first ("https, http").
        proto = request.headers.get("x-forwarded-proto", "").split(",")[0].strip()
        host = request.headers.get("x-forwarded-host", "").split(",")[0].strip()
        scheme, netloc = proto or scheme, host or netloc
    query = f"?{url.query}" if url.query else ""
    return f"{scheme}://{netloc}{url.path}{query}"


def expected_signature(secret: str, method: str, uri: str, body: bytes, timestamp: str) -> str:
    message = method.encode() + uri.encode() + body + timestamp.encode()
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def check_timestamp_window(sent_ms: int, settings: WebSettings) -> None:
    """Refuse a signed request sent ``signature_max_age_ms`` or more before now (a
    replay, or a clock out of step) or as far in the future. Both receivers use it."""
    age_ms = settings.now_ms() - sent_ms
    limit_s = settings.signature_max_age_ms // 1000
    if age_ms >= settings.signature_max_age_ms:
        raise Unauthorized(
            "stale_timestamp",
            f"the request timestamp is {age_ms // 1000} s old; requests {limit_s} s old "
            "or more are refused (a replay, or a clock out of step)",
        )
    if -age_ms >= settings.signature_max_age_ms:
        raise Unauthorized(
            "future_timestamp",
            f"the request timestamp is {-age_ms // 1000} s in the future; "
            f"at most {limit_s} s of clock difference is accepted",
        )


def verify(request: Request, body: bytes, settings: WebSettings) -> str:
    """Check the headers and the signature; return the business whose secret signed it.

    Raises ``Unauthorized`` naming the problem. Neither the received signature nor any
    secret is ever part of the message.
    """
    signature = request.headers.get(SIGNATURE_HEADER)
    timestamp = request.headers.get(TIMESTAMP_HEADER)
    if not signature:
        raise Unauthorized("missing_signature", "the X-HubSpot-Signature-v3 header is missing")
    if not timestamp:
        raise Unauthorized("missing_timestamp", "the X-HubSpot-Request-Timestamp header is missing")
    try:
        sent_ms = int(timestamp)
    except ValueError:
        raise Unauthorized(
            "invalid_timestamp",
            "X-HubSpot-Request-Timestamp must be milliseconds since the epoch",
        ) from None
    check_timestamp_window(sent_ms, settings)
    uri = signed_uri(request, trust_proxy=settings.trust_proxy)
    matched: str | None = None
    # Compare against every secret (no early exit), so timing says nothing about which.
    for business, secret in sorted(settings.hubspot_secrets.items()):
        wanted = expected_signature(secret, request.method, uri, body, timestamp)
        if hmac.compare_digest(wanted.encode(), signature.encode()) and matched is None:
            matched = business
    if matched is None:
        raise Unauthorized(
            "bad_signature",
            "the X-HubSpot-Signature-v3 signature does not match this request "
            f"(checked against {uri.split('?')[0]} with every configured client secret)",
        )
    return matched


def _text_id(value: Any) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | str) and str(value).strip():
        return str(value)
    return None


def _portal_business(index: int, portal: Any, signer: str, settings: WebSettings) -> str:
    """The business an event belongs to: always the signer's. An event naming a portal
    that is not the signer's is refused, so one business's secret never acts on another."""
    if portal is None:
        return signer
    if not isinstance(portal, int) or isinstance(portal, bool):
        raise BadRequest(
            f"event {index}: portalId must be a number, got {portal!r}", code="invalid_event"
        )
    owner = settings.hubspot_portals.get(portal)
    if owner is None:
        variable = f"MASTEROPS_{signer.upper().replace('-', '_')}_HUBSPOT_PORTAL_ID"
        raise BadRequest(
            f"event {index}: portal {portal} belongs to no configured business (set "
            f"{variable} if it is {signer}'s); "
            "nothing from this delivery was stored",
            status=403,
            code="unknown_portal",
        )
    if owner != signer:
        raise BadRequest(
            f"event {index}: portal {portal} is not the portal of the business whose "
            "client secret signed this delivery; nothing from this delivery was stored",
            status=403,
            code="portal_mismatch",
        )
    return signer


def parse_events(body: bytes, signer: str, settings: WebSettings) -> list[InboxEvent]:
    """The delivery's events, or ``BadRequest`` naming the first thing wrong with them.

    An event holding a NUL character (which no database text column can hold) does not
    refuse its batch, or HubSpot would redeliver it forever and the valid events with it:
    it is stored with the NULs replaced, already "failed", with the reason.
    """
    payload = parse_json_body(body)
    if not isinstance(payload, list):
        raise BadRequest(
            f"the body must be a JSON array of events, got a JSON {type(payload).__name__}",
            code="not_an_array",
        )
    events: list[InboxEvent] = []
    may_hold_nul = b"\\u0000" in body
    for index, raw_item in enumerate(payload):
        if not isinstance(raw_item, dict):
            raise BadRequest(f"event {index} is not a JSON object", code="invalid_event")
        # JSON can only carry a NUL escaped: without one in the body, nothing to replace.
        item, had_nul = without_nul(raw_item) if may_hold_nul else (raw_item, False)
        event_id = _text_id(item.get("eventId"))
        if event_id is None:
            raise BadRequest(
                f"event {index} has no eventId (a number or a non-empty string); "
                "nothing from this delivery was stored",
                code="invalid_event",
            )
        occurred = item.get("occurredAt")
        occurred_at: datetime | None = None
        if occurred is not None:
            if not isinstance(occurred, int | float) or isinstance(occurred, bool):
                raise BadRequest(
                    f"event {index} (eventId {event_id}): occurredAt must be epoch "
                    f"milliseconds, got {occurred!r}",
                    code="invalid_event",
                )
            try:
                occurred_at = datetime.fromtimestamp(occurred / 1000, UTC)
            except (OverflowError, OSError, ValueError):
                raise BadRequest(
                    f"event {index} (eventId {event_id}): occurredAt {occurred} is out of range",
                    code="invalid_event",
                ) from None
        business = _portal_business(index, item.get("portalId"), signer, settings)
        subscription = item.get("subscriptionType")
        events.append(
            InboxEvent(
                source="hubspot",
                event_id=event_id,
                business_id=business,
                subscription_type=subscription if isinstance(subscription, str) else None,
                object_id=_text_id(item.get("objectId")),
                occurred_at=occurred_at,
                payload=item,
                error=NUL_REASON if had_nul else None,
            )
        )
    return events


async def receive_hubspot(request: Request) -> Response:
    settings: WebSettings = request.app.state.settings
    if not settings.hubspot_secrets:
        return error(
            503,
            "not_configured",
            "the HubSpot webhook receiver has no client secret configured, so it cannot "
            "verify deliveries; configure each business's HubSpot app client secret",
        )
    try:
        body = await read_limited(request, settings.max_webhook_body)
        signer = verify(request, body, settings)
        events = parse_events(body, signer, settings)
    except BadRequest as exc:
        return error(exc.status, exc.code, exc.message)
    try:
        writer: GroupCommit = request.app.state.inbox_writer
        result: StoreResult = await writer.store(events)
    except SQLAlchemyError:
        # Nothing was committed; a non-2xx answer makes HubSpot deliver the batch again.
        return error(503, "storage_unavailable", "the events could not be stored; retry later")
    return JSON({"received": result.received, "new": result.new})
