"""One-off failures queued by tests: "answer the next N matching calls with 477".

Unlike the harness's fault injection (random shares of generic faults), these
answer with HubSpot's own error body and category, so a client's handling of a
specific HubSpot error (423 locked, 477 migration in progress...) can be tested.
"""

from __future__ import annotations

from dataclasses import dataclass

from masterops_sandbox.hubspot.errors import HubSpotError

_DEFAULTS: dict[int, tuple[str, str]] = {
    423: ("LOCKED", "The resource is locked; try again shortly."),
    477: ("MIGRATION_IN_PROGRESS", "The portal is being migrated; try again later."),
    500: ("INTERNAL_ERROR", "Internal error"),
    502: ("BAD_GATEWAY", "Bad gateway"),
    503: ("SERVICE_UNAVAILABLE", "Service temporarily unavailable"),
}


@dataclass
class _Failure:
    status: int
    times: int
    method: str | None
    path_contains: str | None
    category: str
    message: str


class FailNext:
    """The queue of pending one-off failures, consumed in order of arrival."""

    def __init__(self) -> None:
        self._items: list[_Failure] = []

    def add(
        self,
        status: int,
        *,
        times: int = 1,
        method: str | None = None,
        path_contains: str | None = None,
        category: str | None = None,
        message: str | None = None,
    ) -> None:
        default_category, default_message = _DEFAULTS.get(status, ("ERROR", "Error"))
        self._items.append(
            _Failure(
                status,
                times,
                method.upper() if method else None,
                path_contains,
                category or default_category,
                message or default_message,
            )
        )

    def clear(self) -> None:
        self._items.clear()

    def take(self, method: str, path: str) -> HubSpotError | None:
        """The error to answer this call with, if a queued failure matches it."""
        for failure in self._items:
            if failure.method not in (None, method):
                continue
            if failure.path_contains is not None and failure.path_contains not in path:
                continue
            failure.times -= 1
            if failure.times <= 0:
                self._items.remove(failure)
            return HubSpotError(failure.status, failure.category, failure.message)
        return None
