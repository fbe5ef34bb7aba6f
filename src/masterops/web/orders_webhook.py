"""``POST /webhooks/orders/<business>``: a sales order pushed by the business's own
sender (an n8n workflow, an Unleashed hook relay), verified, stored, answered.

The contract for senders:

- ``Content-Type: application/json``; the body is one Unleashed sales order as the
  Unleashed API returns it (``Guid``, ``OrderNumber``, ``OrderStatus``, ``Customer``,
  ``SalesOrderLines``, dates as ``/Date(ms)/``, totals), validated by the very model the
  polling sync uses;
- ``X-MasterOps-Timestamp``: seconds since the epoch, within the receiver's window;
- ``X-MasterOps-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`` keyed by
  ``MASTEROPS_<BUSINESS>_ORDER_WEBHOOK_SECRET`` (the business named in the path: another
  business's secret never verifies);
- ``X-MasterOps-Event-Id`` (optional, at most 64 printable characters): the sender's id
  of the delivery. Without it the order's Guid and a digest of the order are the id, so
  a redelivery of the same order is the same event and a changed order a new one.

Answers are JSON ``{"error": code, "message": reason}`` when refused: 400 malformed JSON
or a bad event id, 401 signature or timestamp, 404 no order webhook for the business,
413 over the body limit, 415 not JSON, 422 JSON that is not an order (the field named).
202 means stored in the inbox, committed (a redelivery: stored before, ``"new": 0``;
concurrent deliveries of the same event make one row, and exactly one of them answers
``"new": 1``); an order holding a NUL character is stored already failed, with the
reason, and not applied.
The order is applied after the answer (``WebSettings.order_intake``), else by the job.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

from sqlalchemy.exc import SQLAlchemyError
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response

from masterops.ingest.orders_events import (
    ORDER_EVENT_TYPE,
    ORDER_SOURCE,
    InvalidOrder,
    check_sender_id,
    event_key,
    parse_order,
)
from masterops.sync.common import guid_key
from masterops.web.group_commit import GroupCommit
from masterops.web.inbox import InboxEvent
from masterops.web.nul import NUL_REASON, without_nul
from masterops.web.responses import JSON, BadRequest, error, parse_json_body, read_limited
from masterops.web.settings import WebSettings
from masterops.web.webhooks import Unauthorized, check_timestamp_window

SIGNATURE_HEADER = "x-masterops-signature"
TIMESTAMP_HEADER = "x-masterops-timestamp"
EVENT_ID_HEADER = "x-masterops-event-id"
SIGNATURE_PREFIX = "sha256="


def order_signature(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-MasterOps-Signature`` value of ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return SIGNATURE_PREFIX + digest.hexdigest()


def _verify(request: Request, body: bytes, secrets: Sequence[str], settings: WebSettings) -> None:
    """The signature must match one of ``secrets``: the business's key and, during a
    rotation's overlap, the key it replaced (``WebSettings.order_webhook_keys``)."""
    signature = request.headers.get(SIGNATURE_HEADER)
    timestamp = request.headers.get(TIMESTAMP_HEADER)
    if not signature:
        raise Unauthorized("missing_signature", "the X-MasterOps-Signature header is missing")
    if not timestamp:
        raise Unauthorized("missing_timestamp", "the X-MasterOps-Timestamp header is missing")
    if not timestamp.isdigit() or len(timestamp) > 12:
        raise Unauthorized(
            "invalid_timestamp", "X-MasterOps-Timestamp must be seconds since the epoch"
        )
    check_timestamp_window(int(timestamp) * 1000, settings)
    matches = [
        hmac.compare_digest(order_signature(secret, timestamp, body).encode(), signature.encode())
        for secret in secrets
    ]
    if not any(matches):
        raise Unauthorized(
            "bad_signature",
            "the X-MasterOps-Signature does not match this request: it must be "
            '"sha256=" and the hex HMAC-SHA256 of "<timestamp>.<body>" keyed by this '
            "business's order webhook secret",
        )


def _is_json(request: Request) -> bool:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return media == "application/json"


def parse_delivery(request: Request, body: bytes, business: str) -> InboxEvent:
    """The inbox event of one verified delivery, or ``BadRequest`` saying what is wrong."""
    payload = parse_json_body(body)
    sender_id = request.headers.get(EVENT_ID_HEADER)
    if sender_id is not None and (problem := check_sender_id(sender_id)):
        raise BadRequest(f"X-MasterOps-Event-Id {problem}", code="invalid_event_id")
    had_nul = False
    if isinstance(payload, dict):
        payload, had_nul = without_nul(payload)
    try:
        order = parse_order(payload)
    except InvalidOrder as exc:
        raise BadRequest(
            f"the body is not a sales order: {exc.field} {exc.message}",
            status=422,
            code="invalid_order",
        ) from None
    return InboxEvent(
        source=ORDER_SOURCE,
        event_id=event_key(business, order, payload, sender_id),
        business_id=business,
        subscription_type=ORDER_EVENT_TYPE,
        object_id=guid_key(order.guid),
        occurred_at=order.last_modified_on,
        payload=payload,
        error=NUL_REASON if had_nul else None,
    )


async def receive_order(request: Request) -> Response:
    settings: WebSettings = request.app.state.settings
    business = request.path_params["business"]
    secret = settings.order_webhook_secrets.get(business)
    if secret is None:
        return error(
            404,
            "unknown_business",
            "no order webhook is configured for this business (its "
            "MASTEROPS_<BUSINESS>_ORDER_WEBHOOK_SECRET is not set)",
        )
    try:
        if not _is_json(request):
            raise BadRequest(
                "the body must be JSON: send Content-Type: application/json",
                status=415,
                code="unsupported_media_type",
            )
        body = await read_limited(request, settings.max_webhook_body)
        _verify(request, body, settings.order_webhook_keys(business), settings)
        event = parse_delivery(request, body, business)
    except BadRequest as exc:
        return error(exc.status, exc.code, exc.message)
    try:
        # Committed with the deliveries of both receivers arriving at the same moment
        # (group_commit.py); answered only once that transaction has committed.
        writer: GroupCommit = request.app.state.inbox_writer
        result = await writer.store([event])
    except SQLAlchemyError:
        # Nothing was committed; a non-2xx answer makes the sender deliver it again.
        return error(503, "storage_unavailable", "the order could not be stored; retry later")
    answer = {
        "received": result.received,
        "new": result.new,
        "event_id": event.event_id,
        "status": "failed" if event.error else "accepted",
    }
    if event.error:
        answer["reason"] = event.error
    background = None
    if result.new and event.error is None and settings.order_intake is not None:
        background = BackgroundTask(settings.order_intake, business)
    return JSON(answer, status_code=202, background=background)
