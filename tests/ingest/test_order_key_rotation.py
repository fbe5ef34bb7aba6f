"""An order-webhook key rotation's overlap, over HTTP: during it a delivery signed with
the old key or the new one is accepted; after it only the new one; on every backend."""

from __future__ import annotations

import time

from order_intake_helpers import BUSINESS, SECRETS, inbox_rows, intake_rig, post
from sqlalchemy import Engine

OLD = "the-key-this-rotation-replaced-0123456789"


async def test_both_keys_work_until_the_old_one_retires(engine: Engine) -> None:
    clock = {"ms": int(time.time() * 1000)}
    until = clock["ms"] + 60_000
    async with intake_rig(
        engine,
        inline=False,
        retiring_order_webhook_secrets={BUSINESS: (OLD, until)},
        now_ms=lambda: clock["ms"],
    ) as rig:
        orders = [rig.order(i) for i in range(3)]
        new_key = await post(rig, rig.order_json(orders[0]))
        old_key = await post(rig, rig.order_json(orders[1]), secret=OLD)
        assert [new_key.status_code, old_key.status_code] == [202, 202], old_key.text

        clock["ms"] = until  # the overlap is over
        retired = await post(rig, rig.order_json(orders[2]), secret=OLD, timestamp=until // 1000)
        assert retired.status_code == 401
        assert retired.json()["error"] == "bad_signature"
        still = await post(rig, rig.order_json(orders[2]), timestamp=until // 1000)
        assert still.status_code == 202
    assert len(inbox_rows(engine)) == 3
    assert SECRETS[BUSINESS] != OLD
