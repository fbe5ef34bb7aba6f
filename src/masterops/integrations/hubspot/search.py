"""Search: one page (``search``) or every match however many (``search_all``).

HubSpot refuses to page a search past its 10,000th result. ``search_all`` gets around it
by windowing: it sorts ascending on ``hs_object_id`` (or the modification date) and,
before the next page would cross the cap, restarts the query bounded below by the last
value seen. Search has its own limit of 5 calls per second, hence its own bucket.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any, Literal

from masterops.integrations.base import ErrorCategory, IntegrationError
from masterops.integrations.hubspot.core import HubSpotCore, next_after, results_of
from masterops.integrations.hubspot.errors import SERVICE
from masterops.integrations.hubspot.filters import (
    AnyOf,
    Filter,
    Sort,
    Where,
    filter_groups_json,
    groups_of,
    with_filter,
)
from masterops.integrations.hubspot.models import CrmObject, SearchPage

SEARCH = "/crm/v3/objects/{type}/search"
MAX_SEARCH_LIMIT = 200
#: HubSpot answers 400 to a search page starting at this offset or beyond.
SEARCH_RESULT_CAP = 10_000

WindowOn = Literal["hs_object_id", "lastmodifieddate"]


def window_property(object_type: str, window_on: WindowOn) -> str:
    """The property a window runs on: contacts call their modification date
    ``lastmodifieddate``, every other object type ``hs_lastmodifieddate``."""
    if window_on == "hs_object_id":
        return "hs_object_id"
    if window_on != "lastmodifieddate":
        raise ValueError(
            f"window_on must be 'hs_object_id' or 'lastmodifieddate', not {window_on!r}"
        )
    return "lastmodifieddate" if object_type == "contacts" else "hs_lastmodifieddate"


def _epoch_ms(value: str) -> str:
    """A date property value as epoch milliseconds, the form HubSpot's filters document."""
    if value.isdigit():
        return value
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value  # let HubSpot judge a format we do not know
    return str(round(moment.timestamp() * 1000))


#: The ``after`` of a search's first page: HubSpot's paging is an offset.
FIRST_PAGE = "0"


class SearchOperations(HubSpotCore):
    async def search(
        self,
        object_type: str,
        where: Where | None = None,
        *,
        query: str | None = None,
        properties: Sequence[str] | None = None,
        sorts: Sequence[Sort] = (),
        limit: int = 100,
        after: str | None = None,
    ) -> SearchPage:
        """One page of records matching ``where`` (and the free-text ``query``).

        ``limit`` is at most 200; pass the page's ``after`` to get the next one. Paging
        past 10,000 results is refused by HubSpot: use ``search_all`` for more.
        """
        if not 1 <= limit <= MAX_SEARCH_LIMIT:
            raise ValueError(f"limit must be between 1 and {MAX_SEARCH_LIMIT}, got {limit}")
        # HubSpot's request description requires filterGroups, sorts, properties, limit and
        # after; the live API takes their absence. Each is sent, with the value that means
        # what leaving it out means: no sort, the default properties, the first page ("0").
        # Sorts stay the documented {propertyName, direction} objects.
        payload: dict[str, Any] = {
            "filterGroups": filter_groups_json(groups_of(where)),
            "sorts": [s.to_json() for s in sorts],
            "properties": list(properties) if properties is not None else [],
            "limit": limit,
            "after": after if after is not None else FIRST_PAGE,
        }
        if query is not None:
            payload["query"] = query
        response, body = await self._call_object(
            "POST",
            SEARCH,
            path_params={"type": object_type},
            json=payload,
            operation="search",
            idempotent=True,  # a POST, but a read: safe to repeat
            bucket="search",  # search's own 5-per-second limit
        )
        total = body.get("total")
        return SearchPage(
            total=total if isinstance(total, int) else 0,
            results=[
                self._parse(CrmObject, raw, response=response, operation="search", path=SEARCH)
                for raw in results_of(body)
            ],
            after=next_after(body),
        )

    async def search_all(
        self,
        object_type: str,
        where: Where | None = None,
        *,
        properties: Sequence[str] | None = None,
        window_on: WindowOn = "hs_object_id",
        page_size: int = MAX_SEARCH_LIMIT,
        result_cap: int = SEARCH_RESULT_CAP,
    ) -> AsyncIterator[CrmObject]:
        """Every record matching ``where``, ascending on ``window_on``, past HubSpot's
        10,000-result cap.

        Each window pages until the next page would cross ``result_cap`` results, then the
        query restarts with ``window_on`` greater than the last value seen. On
        ``"lastmodifieddate"`` (an incremental sync) the bound is "greater or equal", since
        several records can share a timestamp, and the records already yielded at that
        timestamp are skipped; more than ``result_cap`` records sharing one timestamp is an
        error, as no window can get past them. A record modified during the iteration may
        come again later, with its new date. ``result_cap`` exists for tests.

        The window filter is AND'd into every filter group, so ``where`` must leave room for
        one more filter in each group (and in the total of 25).
        """
        if not 1 <= page_size <= MAX_SEARCH_LIMIT:
            raise ValueError(f"page_size must be between 1 and {MAX_SEARCH_LIMIT}, got {page_size}")
        if not page_size <= result_cap <= SEARCH_RESULT_CAP:
            raise ValueError(f"result_cap must be between page_size and {SEARCH_RESULT_CAP}")
        prop = window_property(object_type, window_on)
        strict = window_on == "hs_object_id"
        groups = groups_of(where)
        try:
            with_filter(groups, Filter(prop, "GT", "0"))
        except ValueError as exc:
            raise ValueError(
                f"search_all adds a filter on {prop} to every filter group; make room: {exc}"
            ) from None
        names = None if properties is None else list(dict.fromkeys([*properties, prop]))
        sort = [Sort.asc(prop)]
        bound: str | None = None  # the window's lower bound (None: the first window)
        last: str | None = None  # the window value of the last record yielded
        at_last: set[str] = set()  # ids yielded whose window value is ``last``
        while True:
            window = groups
            if bound is not None:
                window = with_filter(groups, Filter(prop, "GT" if strict else "GTE", bound))
            filters = AnyOf(*window) if window else None
            fetched = 0
            after: str | None = None
            while True:
                page = await self.search(
                    object_type,
                    filters,
                    properties=names,
                    sorts=sort,
                    limit=page_size,
                    after=after,
                )
                for record in page.results:
                    fetched += 1
                    value = self._window_value(record, prop, strict)
                    if value is not None and value == last:
                        if record.id in at_last:
                            continue  # already yielded, before the window restarted
                    elif value is not None:
                        last, at_last = value, set()
                    at_last.add(record.id)
                    yield record
                if page.after is None:
                    return
                if fetched + page_size > result_cap:
                    break  # the next page would cross the cap: restart the window
                after = page.after
            if last is None or last == bound:
                raise IntegrationError(
                    f"over {result_cap} records share {prop} = {last}: a search window "
                    "cannot get past them",
                    category=ErrorCategory.VALIDATION,
                    service=SERVICE,
                    operation="search_all",
                    endpoint=SEARCH,
                )
            bound = last

    @staticmethod
    def _window_value(record: CrmObject, prop: str, strict: bool) -> str | None:
        if strict:
            return record.get(prop) or record.id
        value = record.get(prop)
        if value:
            return _epoch_ms(value)
        if record.updated_at is not None:  # the property was not returned
            return str(round(record.updated_at.timestamp() * 1000))
        return None
