"""``HubSpotCore``: what every group of HubSpot operations shares.

The operations live in one mixin per idea (``objects.py``, ``batch.py``, ``search.py``,
``associations.py``, ``properties.py``), each a subclass of this class, and
``HubSpotConnector`` combines them. Every call still goes through
``BaseConnector.request()`` with an endpoint template, so limits, retries, the breaker and
telemetry apply to all of them alike.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, TypedDict, TypeVar, Unpack

import httpx
from pydantic import BaseModel, ValidationError

from masterops.integrations.base import BaseConnector
from masterops.integrations.hubspot.errors import unexpected_body

M = TypeVar("M", bound=BaseModel)

#: The object types every portal has; custom object types ("p_...", "2-...") work too.
OBJECT_TYPES = ("contacts", "companies", "deals", "products", "line_items")
#: HubSpot's v3 batch endpoints accept at most this many inputs per call.
BATCH_LIMIT = 100


class CallOptions(TypedDict, total=False):
    """What a call may add to its method, path and operation (see ``_call``)."""

    path_params: Mapping[str, object] | None
    params: Mapping[str, Any] | None
    json: Any
    idempotent: bool | None
    bucket: str
    expected_statuses: Collection[int]


class HubSpotCore(BaseConnector):
    """The HubSpot connector's shared plumbing: JSON calls and answer parsing."""

    service = "hubspot"
    #: How many batch chunks of one call run at once (each takes its own rate-limit token).
    batch_concurrency: int = 4

    async def _call(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        path_params: Mapping[str, object] | None = None,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        idempotent: bool | None = None,
        bucket: str = "default",
        expected_statuses: Collection[int] = (),
    ) -> tuple[httpx.Response, Any]:
        """``request()`` a JSON endpoint; returns the response and its decoded body (None
        when empty, as for a 204)."""
        response = await self.request(
            method,
            path,
            path_params=path_params,
            params=params,
            json=json,
            operation=operation,
            idempotent=idempotent,
            bucket=bucket,
            expect_json=True,  # a body cut short is a failed, retryable attempt
            expected_statuses=expected_statuses,
        )
        body = response.json() if response.content.strip() else None
        return response, body

    async def _call_object(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        path_params: Mapping[str, object] | None = None,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        idempotent: bool | None = None,
        bucket: str = "default",
        expected_statuses: Collection[int] = (),
    ) -> tuple[httpx.Response, dict[str, Any]]:
        """Like ``_call`` for endpoints documented to answer a JSON object."""
        response, body = await self._call(
            method,
            path,
            operation=operation,
            path_params=path_params,
            params=params,
            json=json,
            idempotent=idempotent,
            bucket=bucket,
            expected_statuses=expected_statuses,
        )
        if not isinstance(body, dict):
            raise unexpected_body(
                f"expected a JSON object, got {type(body).__name__}",
                status=response.status_code,
                operation=operation,
                endpoint=path,
            )
        return response, body

    async def _call_model(
        self,
        model: type[M],
        method: str,
        path: str,
        *,
        operation: str,
        **options: Unpack[CallOptions],
    ) -> M:
        """``_call_object`` for an endpoint that answers one ``model``."""
        response, body = await self._call_object(method, path, operation=operation, **options)
        return self._parse(model, body, response=response, operation=operation, path=path)

    async def _call_list(
        self,
        model: type[M],
        method: str,
        path: str,
        *,
        operation: str,
        **options: Unpack[CallOptions],
    ) -> list[M]:
        """``_call_object`` for an endpoint that answers ``{"results": [model, ...]}``
        in one page."""
        response, body = await self._call_object(method, path, operation=operation, **options)
        return [
            self._parse(model, raw, response=response, operation=operation, path=path)
            for raw in results_of(body)
        ]

    def _parse(
        self, model: type[M], data: Any, *, response: httpx.Response, operation: str, path: str
    ) -> M:
        """``data`` as ``model``; a shape HubSpot does not document is an ``UNKNOWN`` error
        naming the field, never a pydantic traceback with record values in it."""
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "body"
            raise unexpected_body(
                f"{model.__name__}.{where}: {first['type']}",
                status=response.status_code,
                operation=operation,
                endpoint=path,
            ) from None


def next_after(body: Mapping[str, Any]) -> str | None:
    """The ``paging.next.after`` cursor of a list or search answer; None on the last page."""
    paging = body.get("paging")
    if not isinstance(paging, Mapping):
        return None
    following = paging.get("next")
    if not isinstance(following, Mapping):
        return None
    after = following.get("after")
    return str(after) if isinstance(after, str | int) and str(after) != "" else None


def results_of(body: Mapping[str, Any]) -> list[Any]:
    """The ``results`` list of an answer (empty when missing)."""
    results = body.get("results")
    return results if isinstance(results, list) else []


def patch_body(**fields: Any) -> dict[str, Any]:
    """A PATCH body of the fields given (None means "leave as it is"); at least one."""
    changes = {name: value for name, value in fields.items() if value is not None}
    if not changes:
        raise ValueError("nothing to change: give at least one field")
    return changes
