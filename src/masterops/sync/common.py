"""What every Unleashed-sourced sync shares: walking pages, reading a watermark, redacting
a failure message, and telling a HubSpot refusal that must stop the run."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from masterops.integrations.base import CircuitOpenError, ErrorCategory
from masterops.integrations.hubspot import BatchOutcome, HubSpotConnector
from masterops.integrations.unleashed import Resource, UnleashedConnector
from masterops.integrations.unleashed.models import UnleashedModel
from masterops.integrations.unleashed.queries import Query

#: ``on_progress(stage, done, total)``; total is None until the first page says.
Progress = Callable[[str, int, int | None], None]

R = TypeVar("R", bound=UnleashedModel)

# HubSpot refusals that no later item could get past: the run fails instead of counting
# every remaining item as failed.
FATAL_CATEGORIES = frozenset({ErrorCategory.AUTHENTICATION, ErrorCategory.AUTHORIZATION})


async def walk_pages(
    unleashed: UnleashedConnector,
    resource: Resource[R],
    params: Query,
    *,
    page_size: int,
    on_progress: Progress | None,
    stage: str,
    store: Callable[[Sequence[R]], None],
) -> None:
    """Every page of ``resource``, each stored (in its own transaction) before the next is
    asked for: a kill loses at most the page in flight."""
    number = 1
    done = 0
    total: int | None = None
    if on_progress is not None:
        on_progress(stage, 0, None)
    while True:
        page = await unleashed.page(resource, number, page_size=page_size, params=params)
        if total is None:
            total = page.pagination.number_of_items
        store(page.items)
        done += len(page.items)
        if on_progress is not None:
            # Records may be added while we walk: never report more done than total.
            on_progress(stage, done, max(total, done))
        # max(): a server that mislabels its page number must not make us loop forever.
        last = max(number, page.pagination.page_number) >= page.pagination.number_of_pages
        if last or not page.items:
            return
        number += 1


def parse_watermark(value: str | None) -> datetime | None:
    """The stored watermark as an aware datetime; an unreadable one means a full read
    (re-reading is always safe, skipping is not)."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def redacted_message(
    text: str, unleashed: UnleashedConnector, hubspot: HubSpotConnector | None
) -> str:
    """``text`` with every secret of both connectors masked (it goes into sync_runs)."""
    redactor = unleashed.redactor
    if hubspot is not None:
        redactor = redactor.with_secrets(hubspot.redactor.secrets)
    return redactor.text(text)


def raise_if_fatal(outcomes: Sequence[BatchOutcome[Any]]) -> None:
    """Raise the first refusal that will refuse everything else too (auth, open breaker)."""
    for outcome in outcomes:
        error = outcome.error
        if error is not None and (
            isinstance(error, CircuitOpenError) or error.category in FATAL_CATEGORIES
        ):
            raise error
