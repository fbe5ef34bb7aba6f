"""Endpoint templates and rate-limit header parsing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from masterops.integrations.base import parse_rate_limit_headers, parse_retry_after, render_path

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


def test_render_path() -> None:
    assert render_path("/crm/v3/objects/{type}/batch/upsert", {"type": "contacts"}) == (
        "/crm/v3/objects/contacts/batch/upsert"
    )
    assert render_path("/x/{id}", {"id": "a/b c%"}) == "/x/a%2Fb%20c%25"
    assert render_path("/healthz") == "/healthz"
    with pytest.raises(ValueError, match="id"):
        render_path("/x/{id}", {})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        ("0", 0.0),
        ("1.5", 1.5),
        (format_datetime(NOW + timedelta(seconds=45), usegmt=True), 45.0),
        (format_datetime(NOW - timedelta(seconds=45), usegmt=True), 0.0),
        ("soon", None),
        (None, None),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, NOW) == expected


def test_hubspot_headers() -> None:
    headers = httpx.Headers(
        {
            "X-HubSpot-RateLimit-Max": "190",
            "X-HubSpot-RateLimit-Remaining": "42",
            "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
        }
    )
    info = parse_rate_limit_headers(headers, NOW)
    assert (info.limit, info.remaining, info.window) == (190, 42, 10.0)
    assert info.reset_at == NOW + timedelta(seconds=10)
    assert info.retry_after is None


def test_generic_headers_with_epoch_and_delta_resets() -> None:
    epoch = parse_rate_limit_headers(
        httpx.Headers(
            {"X-RateLimit-Remaining": "3", "X-RateLimit-Reset": str(NOW.timestamp() + 30)}
        ),
        NOW,
    )
    assert epoch.remaining == 3 and epoch.reset_at == NOW + timedelta(seconds=30)
    delta = parse_rate_limit_headers(
        httpx.Headers({"RateLimit-Remaining": "0", "RateLimit-Reset": "7", "Retry-After": "7"}),
        NOW,
    )
    assert delta.remaining == 0 and delta.reset_at == NOW + timedelta(seconds=7)
    assert delta.retry_after == 7.0


def test_no_headers_and_garbage() -> None:
    assert parse_rate_limit_headers(httpx.Headers({}), NOW).remaining is None
    junk = parse_rate_limit_headers(httpx.Headers({"X-HubSpot-RateLimit-Remaining": "lots"}), NOW)
    assert junk.remaining is None
