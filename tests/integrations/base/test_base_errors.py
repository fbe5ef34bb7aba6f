"""IntegrationError: classification, tolerant body parsing, one-line messages."""

from __future__ import annotations

import json

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from masterops.integrations.base import ErrorCategory, IntegrationError
from masterops.observability.redaction import Redactor


def response(
    status: int, body: bytes | str = b"", content_type: str = "application/json"
) -> httpx.Response:
    content = body.encode() if isinstance(body, str) else body
    return httpx.Response(status, content=content, headers={"Content-Type": content_type})


@pytest.mark.parametrize(
    ("status", "category", "retryable"),
    [
        (400, ErrorCategory.VALIDATION, False),
        (401, ErrorCategory.AUTHENTICATION, False),
        (403, ErrorCategory.AUTHORIZATION, False),
        (404, ErrorCategory.NOT_FOUND, False),
        (408, ErrorCategory.TIMEOUT, True),
        (409, ErrorCategory.CONFLICT, False),
        (422, ErrorCategory.VALIDATION, False),
        (423, ErrorCategory.CONFLICT, False),
        (429, ErrorCategory.RATE_LIMIT, True),
        (500, ErrorCategory.SERVER, True),
        (501, ErrorCategory.SERVER, False),
        (502, ErrorCategory.SERVER, True),
        (503, ErrorCategory.SERVER, True),
        (504, ErrorCategory.SERVER, True),
        (302, ErrorCategory.UNKNOWN, False),
    ],
)
def test_status_classification(status: int, category: ErrorCategory, retryable: bool) -> None:
    error = IntegrationError.from_response(response(status), service="hubspot", operation="op")
    assert (error.category, error.retryable, error.status) == (category, retryable, status)
    assert error.request_sent is (status != 429)


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (
            {
                "status": "error",
                "message": "Contact already exists. Existing ID: 123",
                "category": "CONFLICT",
                "correlationId": "c-1",
            },
            "application/json",
            "Contact already exists. Existing ID: 123",
        ),
        ({"Message": "Unleashed says no"}, "application/json", "Unleashed says no"),
        (
            {"description": "The signature is invalid"},
            "application/json",
            "The signature is invalid",
        ),
        ({"errors": [{"message": "first problem"}]}, "application/json", "first problem"),
        ('{"status":"error","message":"cut sh', "application/json", "cut sh"),
        (
            "<!DOCTYPE html><html><head><title> 503 Service\n Unavailable </title></head></html>",
            "text/html",
            "503 Service Unavailable",
        ),
        ("<html><body><h1>Bad &amp; Gateway</h1></body></html>", "text/html", "Bad & Gateway"),
        ("plain failure text", "text/plain", "plain failure text"),
        ("", "text/plain", "Service Unavailable"),
        ("[1, 2", "application/json", "[1, 2"),
        ({"unrelated": 1}, "application/json", "Service Unavailable"),
    ],
)
def test_reason_extraction(body: object, content_type: str, message: str) -> None:
    raw = json.dumps(body) if isinstance(body, dict) else str(body)
    error = IntegrationError.from_response(
        response(503, raw, content_type), service="unleashed", operation="list_products"
    )
    assert error.message == message


def test_json_fields_go_into_details() -> None:
    body = {
        "status": "error",
        "message": "You have reached your ten_secondly_rolling limit.",
        "errorType": "RATE_LIMIT",
        "correlationId": "abc-123",
        "policyName": "TEN_SECONDLY_ROLLING",
    }
    error = IntegrationError.from_response(
        response(429, json.dumps(body)), service="hubspot", operation="search", retry_after=10.0
    )
    assert error.details["error_type"] == "RATE_LIMIT"
    assert error.details["policy_name"] == "TEN_SECONDLY_ROLLING"
    assert error.details["correlation_id"] == "abc-123"
    assert error.retry_after == 10.0
    assert str(error) == (
        "hubspot search: HTTP 429 RATE_LIMIT: You have reached your ten_secondly_rolling limit."
    )
    data = error.to_dict()
    assert data["category"] == "RATE_LIMIT" and data["summary"] == str(error)
    json.dumps(data)


def test_long_bodies_are_truncated() -> None:
    error = IntegrationError.from_response(
        response(500, "x" * 10_000, "text/plain"), service="n8n", operation="op"
    )
    assert len(error.message) <= 200 and error.message.endswith("…")
    assert len(error.details["body"]) <= 500


@given(st.binary(max_size=600), st.integers(400, 599))
def test_any_body_gives_a_one_line_error(body: bytes, status: int) -> None:
    error = IntegrationError.from_response(
        httpx.Response(status, content=body),
        service="s",
        operation="o",
        redactor=Redactor(["secret-value"]),
    )
    text = str(error)
    assert "\n" not in text and text.startswith("s o: HTTP ")
    assert len(error.message) <= 200


def test_secrets_are_redacted_from_message_and_details() -> None:
    body = {"message": "bad token abc-SECRET-123", "context": {"authorization": "Bearer x"}}
    error = IntegrationError.from_response(
        response(401, json.dumps(body)),
        service="n8n",
        operation="op",
        redactor=Redactor(["abc-SECRET-123"]),
    )
    assert "abc-SECRET-123" not in repr(error.to_dict())
    assert error.message == "bad token ***"


@pytest.mark.parametrize(
    ("exc", "category", "sent"),
    [
        (httpx.ConnectError("refused"), ErrorCategory.NETWORK, False),
        (httpx.ConnectTimeout("slow connect"), ErrorCategory.TIMEOUT, False),
        (httpx.PoolTimeout("pool"), ErrorCategory.TIMEOUT, False),
        (httpx.ReadTimeout("slow read"), ErrorCategory.TIMEOUT, True),
        (httpx.WriteTimeout("slow write"), ErrorCategory.TIMEOUT, True),
        (httpx.ReadError("reset"), ErrorCategory.NETWORK, True),
        (httpx.RemoteProtocolError("closed"), ErrorCategory.NETWORK, True),
        (TimeoutError(), ErrorCategory.TIMEOUT, True),
        (ConnectionResetError("reset by peer"), ErrorCategory.NETWORK, True),
        (RuntimeError("weird"), ErrorCategory.UNKNOWN, True),
    ],
)
def test_exception_classification(exc: Exception, category: ErrorCategory, sent: bool) -> None:
    error = IntegrationError.from_exception(exc, service="hubspot", operation="op", timeout_s=2.0)
    assert (error.category, error.request_sent) == (category, sent)
    assert error.retryable is (category in (ErrorCategory.NETWORK, ErrorCategory.TIMEOUT))
    assert error.status is None and "\n" not in str(error)
