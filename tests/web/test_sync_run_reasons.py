"""Why a sync failed, over the API (issue #10 point 6): ``/api/v1/sync/runs`` rows carry
``refused_count`` and ``top_reasons``; ``/api/v1/sync/runs/{id}`` lists every refused
item. A business-scoped token sees only its businesses' runs, and a reason that quotes an
email is masked unless the token is admin."""

from __future__ import annotations

import httpx
from sqlalchemy import Engine
from web_helpers import BASE_URL, Web, bearer, make_token

from masterops.sync.refusals import Refusal, record_refusals, recording_refusals
from masterops.sync.state import finish_run, start_run

EMAIL = "ann@example.com"


def _refused_run(engine: Engine, business: str, refused: list[Refusal]) -> int:
    """A finished orders run of ``business`` whose ``refused`` items went through the
    same recording a sync's ``log_refused`` does."""
    with engine.begin() as conn:
        run_id = start_run(conn, business, "orders", full=False, watermark=None)
    with recording_refusals(engine, run_id, "orders"):
        assert record_refusals(business, refused, redact=str) is None
    with engine.begin() as conn:
        finish_run(
            conn, run_id, "succeeded", fetched=9, written=9, failed=len(refused), watermark="w"
        )
    return run_id


def _seed(engine: Engine) -> tuple[int, int]:
    missing = [
        Refusal(
            what="association",
            key=f"SO-{n}: deal -> contacts link 5 -> 946",
            category="NOT_FOUND",
            status_code=404,
            reason="Contact 946 does not exist.",
        )
        for n in range(4)
    ]
    invalid = Refusal(
        what="contact",
        key="C-1",
        category="VALIDATION",
        status_code=400,
        reason=f"Email address {EMAIL} is invalid",
    )
    teelixir = _refused_run(engine, "teelixir", [*missing, invalid])
    elevate = _refused_run(engine, "elevate", missing[:1])
    return teelixir, elevate


async def test_a_run_lists_every_refused_item_and_its_reasons_grouped(web: Web) -> None:
    teelixir, _ = _seed(web.engine)

    answer = await web.client.get(f"/api/v1/sync/runs/{teelixir}")  # an admin token

    assert answer.status_code == 200
    run = answer.json()
    assert (run["id"], run["business_id"], run["entity"]) == (teelixir, "teelixir", "orders")
    assert (run["failed"], run["refused_count"]) == (5, 5)
    assert run["top_reasons"] == [
        {"reason": "Contact 946 does not exist.", "count": 4},
        {"reason": f"Email address {EMAIL} is invalid", "count": 1},
    ]
    assert [(i["item_kind"], i["item_key"]) for i in run["refused"]][-2:] == [
        ("association", "SO-3: deal -> contacts link 5 -> 946"),
        ("contact", "C-1"),
    ]
    assert run["refused"][0] == {
        "item_kind": "association",
        "item_key": "SO-0: deal -> contacts link 5 -> 946",
        "category": "NOT_FOUND",
        "status_code": 404,
        "reason": "Contact 946 does not exist.",
    }
    limited = (await web.client.get(f"/api/v1/sync/runs/{teelixir}?limit=2")).json()
    assert len(limited["refused"]) == 2 and limited["refused_count"] == 5

    runs = (await web.client.get("/api/v1/sync/runs")).json()["runs"]
    by_id = {r["id"]: r for r in runs}
    assert by_id[teelixir]["refused_count"] == 5
    assert by_id[teelixir]["top_reasons"][0] == {
        "reason": "Contact 946 does not exist.",
        "count": 4,
    }


async def test_reasons_are_masked_unless_admin(web: Web) -> None:
    teelixir, _ = _seed(web.engine)
    reader = bearer(make_token(web.engine, "read"))

    one = await web.client.get(f"/api/v1/sync/runs/{teelixir}", headers=reader)
    every = await web.client.get("/api/v1/sync/runs", headers=reader)

    for answer in (one, every):
        assert answer.status_code == 200
        assert EMAIL not in answer.text
        assert "Email address *** is invalid" in answer.text
    assert EMAIL in (await web.client.get(f"/api/v1/sync/runs/{teelixir}")).text


async def test_a_business_scoped_token_sees_only_its_runs(web: Web) -> None:
    teelixir, elevate = _seed(web.engine)
    mine = bearer(make_token(web.engine, "read", "teelixir"))

    own = await web.client.get(f"/api/v1/sync/runs/{teelixir}", headers=mine)
    other = await web.client.get(f"/api/v1/sync/runs/{elevate}", headers=mine)
    listed = (await web.client.get("/api/v1/sync/runs", headers=mine)).json()["runs"]

    assert own.status_code == 200 and own.json()["refused_count"] == 5
    # Another business's run does not exist for this token: the same answer as no run.
    assert other.status_code == 404 and other.json()["error"] == "not_found"
    assert "Contact 946" not in other.text
    assert [r["id"] for r in listed] == [teelixir]


async def test_unknown_and_malformed_run_ids(web: Web) -> None:
    teelixir, _ = _seed(web.engine)
    missing = await web.client.get("/api/v1/sync/runs/987654")
    assert missing.status_code == 404
    assert missing.json() == {"error": "not_found", "message": "no sync run with id 987654"}
    for path in (
        "/api/v1/sync/runs/0",
        "/api/v1/sync/runs/abc",
        f"/api/v1/sync/runs/{2**70}",
        f"/api/v1/sync/runs/{teelixir}?limit=0",
        f"/api/v1/sync/runs/{teelixir}?verbose=1",
    ):
        answer = await web.client.get(path)
        assert answer.status_code == 400, path
        assert answer.json()["error"] == "bad_request", path
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=web.app), base_url=BASE_URL
    ) as anonymous:
        refused = await anonymous.get(f"/api/v1/sync/runs/{teelixir}")
    assert refused.status_code == 401 and "Contact 946" not in refused.text
