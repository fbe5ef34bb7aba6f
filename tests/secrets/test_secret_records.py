"""``observe``: what it answers is what it stored, on a first sighting, an unchanged and a
changed value, a rotation, and a variable whose business or kind the configuration
changed (each backend)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from masterops.db.secret_records import SecretRecord, observe, record_rotation, recorded

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
VARIABLE = "MASTEROPS_TEELIXIR_HUBSPOT_TOKEN"


def _observe(
    engine: Engine, value: str, now: datetime, *, business: str = "teelixir", kind: str = "hub"
) -> SecretRecord:
    with engine.begin() as conn:
        return observe(
            conn, variable=VARIABLE, kind=kind, business_id=business, value=value, now=now
        )


def _stored(engine: Engine) -> SecretRecord:
    with engine.connect() as conn:
        [record] = recorded(conn)
    return record


def test_observe_answers_what_it_stored(engine: Engine) -> None:
    first = _observe(engine, "one", T0)
    assert first == SecretRecord(VARIABLE, "hub", "teelixir", T0, T0, None, changed=False)
    assert first == _stored(engine)

    same = _observe(engine, "one", T0 + timedelta(days=1))
    assert same == first  # unchanged: its age still counts from the first sighting

    later = T0 + timedelta(days=2)
    changed = _observe(engine, "two", later)
    assert changed == SecretRecord(VARIABLE, "hub", "teelixir", T0, later, None, changed=True)
    assert changed == replace(_stored(engine), changed=True)

    rotated_at = T0 + timedelta(days=3)
    with engine.begin() as conn:
        record_rotation(
            conn,
            variable=VARIABLE,
            kind="hub",
            business_id="teelixir",
            value="three",
            now=rotated_at,
            actor="cli:test",
        )
    after = _observe(engine, "three", rotated_at + timedelta(hours=1))
    assert (after.changed_at, after.rotated_at, after.changed) == (rotated_at, rotated_at, False)
    assert after == _stored(engine)

    # The configuration now files the variable under another business and kind: the
    # record says so, and so does the stored row.
    moved = _observe(engine, "three", rotated_at + timedelta(hours=2), business="boo", kind="k2")
    assert (moved.business_id, moved.kind) == ("boo", "k2")
    assert moved == _stored(engine)
