"""``latest_health``: the newest check of every (business, service), found by a skip scan
of the index rather than a read of the whole table; checked against a plain reading."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, insert, select

from masterops.db.tables import health_checks
from masterops.web.readings import latest_health


def test_the_newest_check_of_every_pair(engine: Engine) -> None:
    with engine.connect() as conn:
        assert latest_health(conn) == []
    rng = random.Random(3)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    rows = []
    for i in range(600):
        rows.append(
            {
                "business_id": rng.choice(["boo", "elevate", "rhf", "teelixir"]),
                "service": rng.choice(["hubspot", "n8n", "unleashed"]),
                "status": rng.choice(["healthy", "degraded", "down"]),
                "latency_ms": float(i),
                "message": f"check {i}",
                # Rounds store their checks at nearly one time: many share a second.
                "checked_at": start + timedelta(seconds=i // 7),
            }
        )
    rows.append({**rows[-1], "business_id": "zz", "service": "only", "message": "single"})
    with engine.begin() as conn:
        conn.execute(insert(health_checks), rows)
        stored = [dict(r._mapping) for r in conn.execute(select(health_checks))]
    expected: dict[tuple[str, str], dict[str, object]] = {}
    for row in stored:  # the newest time, then the highest id
        key = (row["business_id"], row["service"])
        if key not in expected or (row["checked_at"], row["id"]) > (
            expected[key]["checked_at"],
            expected[key]["id"],
        ):
            expected[key] = row
    with engine.connect() as conn:
        found = latest_health(conn)
    assert [(r["business_id"], r["service"]) for r in found] == sorted(expected)
    assert [r["message"] for r in found] == [expected[k]["message"] for k in sorted(expected)]
    assert set(found[0]) == {
        "business_id",
        "service",
        "status",
        "latency_ms",
        "message",
        "breaker",
        "checked_at",
    }
