"""``POST /webhooks/orders/{business}``: signatures, the timestamp window and every refusal
(400/401/404/413/415/422), each a JSON reason with nothing stored; on every backend."""

from __future__ import annotations

import time
from typing import Any

import pytest
from order_intake_helpers import (
    BUSINESS,
    OTHER,
    SECRETS,
    URL,
    inbox_rows,
    intake_rig,
    post,
    signed,
)
from sqlalchemy import Engine


async def test_a_good_signature_is_stored_and_answered_202(engine: Engine) -> None:
    async with intake_rig(engine, inline=False) as rig:
        order = rig.order()
        answer = await post(rig, rig.order_json(order))
        assert answer.status_code == 202, answer.text
        body = answer.json()
        assert body["new"] == 1 and body["status"] == "accepted"
        [row] = inbox_rows(engine)
        assert row["source"] == "orders" and row["business_id"] == BUSINESS
        assert row["status"] == "pending" and row["object_id"] == order.guid.lower()
        assert row["event_id"] == body["event_id"]
        assert row["payload_json"]["OrderNumber"] == order.number


async def test_the_senders_event_id_is_the_idempotency_key(engine: Engine) -> None:
    async with intake_rig(engine, inline=False) as rig:
        payload = rig.order_json(rig.order())
        first = await post(rig, payload, event_id="evt-1")
        again = await post(rig, payload, event_id="evt-1")
        other = await post(rig, payload, event_id="evt-2")
        assert [r.json()["new"] for r in (first, again, other)] == [1, 0, 1]
        assert [r["event_id"] for r in inbox_rows(engine)] == [
            f"{BUSINESS}:evt-1",
            f"{BUSINESS}:evt-2",
        ]
        # Without an event id: the same order is one event, a changed order another.
        plain = await post(rig, payload)
        plain_again = await post(rig, payload)
        changed = await post(rig, {**payload, "Comments": "rush"})
        assert [r.json()["new"] for r in (plain, plain_again, changed)] == [1, 0, 1]


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("wrong_secret", "bad_signature"),
        ("other_business_secret", "bad_signature"),
        ("body_changed", "bad_signature"),
        ("stale", "stale_timestamp"),
        ("future", "future_timestamp"),
        ("no_signature", "missing_signature"),
        ("no_timestamp", "missing_timestamp"),
        ("bad_timestamp", "invalid_timestamp"),
    ],
)
async def test_a_bad_signature_or_timestamp_is_401_and_stores_nothing(
    engine: Engine, case: str, code: str
) -> None:
    async with intake_rig(engine, inline=False, signature_max_age_ms=300_000) as rig:
        payload = rig.order_json(rig.order())
        now = int(time.time())
        choices: dict[str, dict[str, Any]] = {
            "wrong_secret": {"secret": "not-the-secret"},
            "other_business_secret": {"secret": SECRETS[OTHER]},
            "stale": {"timestamp": now - 301},
            "future": {"timestamp": now + 301},
        }
        kwargs = choices.get(case, {})
        raw, headers = signed(payload, **kwargs)
        if case == "body_changed":
            raw = raw.replace(b"}", b" }", 1)
        if case == "no_signature":
            del headers["X-MasterOps-Signature"]
        if case == "no_timestamp":
            del headers["X-MasterOps-Timestamp"]
        if case == "bad_timestamp":
            headers["X-MasterOps-Timestamp"] = "yesterday"
        answer = await rig.client.post(URL, content=raw, headers=headers)
        assert answer.status_code == 401, answer.text
        assert answer.json()["error"] == code
        assert SECRETS[BUSINESS] not in answer.text
        assert inbox_rows(engine) == []


async def test_the_other_business_url_takes_only_its_own_secret(engine: Engine) -> None:
    async with intake_rig(engine, inline=False) as rig:
        payload = rig.order_json(rig.order())
        mine_there = await post(rig, payload, url=f"/webhooks/orders/{OTHER}")
        assert mine_there.status_code == 401
        theirs = await post(rig, payload, url=f"/webhooks/orders/{OTHER}", secret=SECRETS[OTHER])
        assert theirs.status_code == 202
        [row] = inbox_rows(engine)
        assert row["business_id"] == OTHER


async def test_refusals_name_what_is_wrong_and_store_nothing(engine: Engine) -> None:
    async with intake_rig(engine, inline=False, max_webhook_body=4096) as rig:
        payload = rig.order_json(rig.order())

        unknown = await post(rig, payload, url="/webhooks/orders/acme")
        assert (unknown.status_code, unknown.json()["error"]) == (404, "unknown_business")

        not_json = await post(rig, "OrderNumber=SO-1", content_type="text/plain")
        assert (not_json.status_code, not_json.json()["error"]) == (415, "unsupported_media_type")

        malformed = await post(rig, '{"Guid": ')
        assert (malformed.status_code, malformed.json()["error"]) == (400, "malformed_json")

        big = await post(rig, {**payload, "Comments": "x" * 5000})
        assert (big.status_code, big.json()["error"]) == (413, "too_large")

        array = await post(rig, [payload])
        assert array.status_code == 422
        assert "JSON object" in array.json()["message"]

        no_guid = await post(rig, {k: v for k, v in payload.items() if k != "Guid"})
        assert (no_guid.status_code, no_guid.json()["error"]) == (422, "invalid_order")
        assert "Guid" in no_guid.json()["message"]

        bad_line = dict(payload)
        bad_line["SalesOrderLines"] = [{"OrderQuantity": "lots"}]
        wrong = await post(rig, bad_line)
        assert wrong.status_code == 422
        assert "SalesOrderLines.0" in wrong.json()["message"]

        bad_date = await post(rig, {**payload, "OrderDate": "last tuesday"})
        assert bad_date.status_code == 422 and "OrderDate" in bad_date.json()["message"]

        bad_id = await post(rig, payload, event_id="x" * 65)
        assert (bad_id.status_code, bad_id.json()["error"]) == (400, "invalid_event_id")

        assert inbox_rows(engine) == []


async def test_the_inbox_api_masks_the_orders_personal_data(engine: Engine) -> None:
    from masterops.db.api_tokens import create_token

    async with intake_rig(engine, inline=False) as rig:
        order = rig.order()
        payload = rig.order_json(order)
        payload["DeliveryName"] = "Ada Lovelace"
        assert (await post(rig, payload)).status_code == 202
        with engine.begin() as conn:
            _, read = create_token(conn, name="reader", scope="read", businesses=None)
            _, admin = create_token(conn, name="admin", scope="admin", businesses=None)
        for token, masked in ((read, True), (admin, False)):
            answer = await rig.client.get(
                "/api/v1/webhooks/inbox",
                params={"source": "orders"},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert answer.status_code == 200, answer.text
            [event] = answer.json()["events"]
            seen = event["payload_json"]
            assert (seen["DeliveryName"] == "***") is masked
            assert (seen["Customer"]["CustomerName"] == "***") is masked
            assert seen["OrderNumber"] == order.number


def test_the_secret_comes_from_the_business_variable_and_is_redacted(tmp_path: Any) -> None:
    from masterops.cli.serve_cmd import web_settings
    from masterops.config import load_config

    config = load_config(
        {
            "MASTEROPS_HOME": str(tmp_path),
            "MASTEROPS_BOO_ORDER_WEBHOOK_SECRET": "boo-order-secret-42",
        },
        cwd=tmp_path,
    )
    settings = web_settings(config)
    assert settings.order_webhook_secrets == {"boo": "boo-order-secret-42"}
    assert "boo-order-secret-42" in config.secrets()


def test_an_order_secret_alone_schedules_the_webhooks_job(tmp_path: Any) -> None:
    from masterops.config import load_config
    from masterops.jobs.schedules import plan_schedules

    env = {"MASTEROPS_HOME": str(tmp_path)}
    assert "webhooks" not in {s.name for s in plan_schedules(load_config(env, cwd=tmp_path))}
    env["MASTEROPS_RHF_ORDER_WEBHOOK_SECRET"] = "rhf-order-secret"
    scheduled = {s.name for s in plan_schedules(load_config(env, cwd=tmp_path))}
    assert "webhooks" in scheduled
