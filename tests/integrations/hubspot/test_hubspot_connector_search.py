"""Search: the filter builder and its caps, one page, the search bucket, and
``search_all`` crossing HubSpot's 10,000-result cap by windowing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from hubspot_connector_helpers import BUSINESS, SEARCH, Rig

from masterops.integrations.base import ErrorCategory, IntegrationError
from masterops.integrations.hubspot import (
    SEARCH_RESULT_CAP,
    AllOf,
    AnyOf,
    Filter,
    HubSpotConnector,
    Sort,
)
from masterops.integrations.hubspot.filters import filter_groups_json, groups_of

# -- the filter builder ----------------------------------------------------------------


def test_filters_render_hubspot_json() -> None:
    since = datetime(2026, 1, 1, tzinfo=UTC)
    where = AnyOf(
        AllOf(Filter.eq("lifecyclestage", "customer"), Filter.has_property("phone")),
        Filter.in_("email", ["a@example.com", "b@example.com"]),
        AllOf(Filter.between("amount", 10, 20.5), Filter.gte("createdate", since)),
    )
    assert filter_groups_json(groups_of(where)) == [
        {
            "filters": [
                {"propertyName": "lifecyclestage", "operator": "EQ", "value": "customer"},
                {"propertyName": "phone", "operator": "HAS_PROPERTY"},
            ]
        },
        {
            "filters": [
                {
                    "propertyName": "email",
                    "operator": "IN",
                    "values": ["a@example.com", "b@example.com"],
                }
            ]
        },
        {
            "filters": [
                {
                    "propertyName": "amount",
                    "operator": "BETWEEN",
                    "value": "10",
                    "highValue": "20.5",
                },
                {"propertyName": "createdate", "operator": "GTE", "value": "1767225600000"},
            ]
        },
    ]
    assert filter_groups_json(groups_of(Filter.eq("hs_is_active", True))) == [
        {"filters": [{"propertyName": "hs_is_active", "operator": "EQ", "value": "true"}]}
    ]
    assert groups_of(None) == ()


def test_filter_caps_are_enforced_before_any_call() -> None:
    one = Filter.has_property("email")
    with pytest.raises(ValueError, match="at most 5 filter groups"):
        AnyOf(*[one] * 6)
    with pytest.raises(ValueError, match="at most 10 filters"):
        AllOf(*[one] * 11)
    with pytest.raises(ValueError, match="at most 25 filters in all"):
        AnyOf(*[AllOf(*[one] * 9)] * 3)
    AnyOf(*[AllOf(*[one] * 5)] * 5)  # exactly 25 is fine
    with pytest.raises(ValueError, match="at least one value"):
        Filter.in_("email", [])
    with pytest.raises(ValueError, match="timezone-aware"):
        Filter.gt("createdate", datetime(2026, 1, 1))


# -- one page ----------------------------------------------------------------------------


async def test_search_by_email(rig: Rig, hubspot: HubSpotConnector) -> None:
    ids = rig.sandbox.bulk_load(
        BUSINESS, "contacts", [{"email": f"p{i}@example.com", "firstname": "P"} for i in range(5)]
    )
    page = await rig.run(
        hubspot.search("contacts", Filter.eq("email", "p3@example.com"), properties=["email"])
    )
    assert page.total == 1 and page.after is None
    assert [r.id for r in page.results] == [ids[3]]
    assert rig.harness.call_count(SEARCH, "POST") == 1


async def test_search_pages_with_after_and_or_groups(rig: Rig, hubspot: HubSpotConnector) -> None:
    rig.sandbox.bulk_load(
        BUSINESS, "deals", [{"dealname": f"D{i}", "amount": str(i)} for i in range(30)]
    )
    where = AnyOf(Filter.lt("amount", 5), Filter.gte("amount", 25))  # 0-4 or 25-29
    first = await rig.run(
        hubspot.search("deals", where, properties=["amount"], sorts=[Sort.desc("amount")], limit=6)
    )
    assert first.total == 10 and first.after is not None
    rest = await rig.run(
        hubspot.search(
            "deals",
            where,
            properties=["amount"],
            sorts=[Sort.desc("amount")],
            limit=6,
            after=first.after,
        )
    )
    assert rest.after is None
    amounts = [r.get("amount") for r in first.results + rest.results]
    assert amounts == ["29", "28", "27", "26", "25", "4", "3", "2", "1", "0"]


async def test_search_limit_is_capped(hubspot: HubSpotConnector) -> None:
    with pytest.raises(ValueError, match="limit"):
        await hubspot.search("contacts", limit=201)


async def test_search_unknown_property_is_validation(rig: Rig, hubspot: HubSpotConnector) -> None:
    with pytest.raises(IntegrationError) as caught:
        await rig.run(hubspot.search("contacts", Filter.eq("no_such_thing", "x")))
    assert (caught.value.category, caught.value.status) == (ErrorCategory.VALIDATION, 400)


async def test_search_429_secondly_then_succeeds(rig: Rig, hubspot: HubSpotConnector) -> None:
    # The sandbox allows 2 searches a second, the connector's bucket 5: the third search
    # in the same second meets a 429 without Retry-After, pauses its bucket for the
    # 1-second window and goes again.
    rig.sandbox.set_search_limit(BUSINESS, 2)

    async def three() -> None:
        for _ in range(3):
            await hubspot.search("contacts")

    await rig.run(three())
    assert rig.harness.call_count(SEARCH, "POST") == 4
    assert hubspot.bucket("search").spec.capacity == 5


# -- every match: windowing past the 10,000 cap -------------------------------------------


async def test_search_all_crosses_the_10000_cap_on_hs_object_id(
    rig: Rig, hubspot: HubSpotConnector
) -> None:
    ids = rig.sandbox.bulk_load(BUSINESS, "contacts", ({} for _ in range(10_500)))
    seen = await rig.collect(hubspot.search_all("contacts", properties=["email"]))
    assert [r.id for r in seen] == ids  # each once, in ascending id order
    # 50 pages of 200 reach the cap; the restarted window needs 3 more (200, 200, 100).
    assert rig.harness.call_count(SEARCH, "POST") == 53


async def test_search_all_with_filters_puts_the_window_in_every_group(
    rig: Rig, hubspot: HubSpotConnector
) -> None:
    rows = [{"firstname": "A" if i % 3 == 0 else "B", "phone": str(i)} for i in range(60)]
    ids = rig.sandbox.bulk_load(BUSINESS, "contacts", rows)
    bodies: list[dict[str, object]] = []

    async def capture(request: httpx.Request) -> None:
        bodies.append(json.loads(request.content))

    hubspot._client.event_hooks["request"].append(capture)
    where = AnyOf(Filter.eq("firstname", "A"), Filter.eq("phone", "1"))
    seen = await rig.collect(hubspot.search_all("contacts", where, page_size=5, result_cap=10))
    expected = [ids[i] for i in range(60) if i % 3 == 0 or i == 1]
    assert [r.id for r in seen] == expected
    restarted = bodies[2]["filterGroups"]
    assert isinstance(restarted, list) and len(restarted) == 2
    for group in restarted:
        assert group["filters"][-1] == {
            "propertyName": "hs_object_id",
            "operator": "GT",
            "value": expected[9],
        }
    assert all(
        b["sorts"] == [{"propertyName": "hs_object_id", "direction": "ASCENDING"}] for b in bodies
    )


async def test_search_all_on_lastmodifieddate_skips_the_boundary_records(
    rig: Rig, hubspot: HubSpotConnector
) -> None:
    # Blocks of records sharing one modification time, so windows restart in the middle
    # of a block: GTE brings the block back and the records already yielded are skipped.
    # A cap of 10 results per window (instead of 10,000) keeps the test small.
    start = datetime(2026, 1, 1, tzinfo=UTC)
    ids: list[str] = []
    for block in range(6):
        ids += rig.sandbox.bulk_load(
            BUSINESS,
            "contacts",
            ({} for _ in range(4)),
            created_at=start + timedelta(minutes=block),
        )
    seen = await rig.collect(
        hubspot.search_all("contacts", window_on="lastmodifieddate", page_size=5, result_cap=10)
    )
    assert sorted(r.id for r in seen) == sorted(ids)
    assert len(seen) == len(ids)  # no duplicates across restarted windows
    assert rig.harness.call_count(SEARCH, "POST") == 6  # three windows of two pages
    stamps = [r.get("lastmodifieddate") or "" for r in seen]
    assert stamps == sorted(stamps)


async def test_search_all_on_deals_windows_on_hs_lastmodifieddate(
    rig: Rig, hubspot: HubSpotConnector
) -> None:
    ids = rig.sandbox.bulk_load(
        BUSINESS, "deals", ({"dealname": str(i)} for i in range(12)), spacing=timedelta(seconds=1)
    )
    seen = await rig.collect(
        hubspot.search_all(
            "deals",
            properties=["dealname"],
            window_on="lastmodifieddate",
            page_size=5,
            result_cap=5,
        )
    )
    assert [r.id for r in seen] == ids
    assert all(r.get("hs_lastmodifieddate") for r in seen)


async def test_search_all_stops_when_one_timestamp_fills_a_window(
    rig: Rig, hubspot: HubSpotConnector
) -> None:
    rig.sandbox.bulk_load(BUSINESS, "contacts", ({} for _ in range(12)))  # all the same time
    with pytest.raises(IntegrationError, match="share lastmodifieddate"):
        await rig.collect(
            hubspot.search_all("contacts", window_on="lastmodifieddate", page_size=5, result_cap=10)
        )


async def test_search_all_needs_room_for_the_window_filter(hubspot: HubSpotConnector) -> None:
    full = AllOf(*[Filter.has_property("email")] * 10)
    with pytest.raises(ValueError, match="make room"):
        await anext(hubspot.search_all("contacts", full))
    with pytest.raises(ValueError, match="result_cap"):
        await anext(hubspot.search_all("contacts", result_cap=SEARCH_RESULT_CAP + 1))
