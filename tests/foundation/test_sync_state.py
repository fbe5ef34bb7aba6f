from sqlalchemy import Engine

from masterops.sync.state import finish_run, get_watermark, recent_runs, set_watermark, start_run


def test_watermarks_and_runs(engine: Engine) -> None:
    with engine.begin() as conn:
        assert get_watermark(conn, "teelixir", "executions") is None
        first = start_run(conn, "teelixir", "executions", full=True, watermark=None)
        set_watermark(conn, "teelixir", "executions", "2026-11-26T10:00:00+00:00")
        # Killed before finishing; the next run marks it interrupted.
        second = start_run(
            conn,
            "teelixir",
            "executions",
            full=False,
            watermark=get_watermark(conn, "teelixir", "executions"),
        )
        finish_run(
            conn,
            second,
            "succeeded",
            fetched=10,
            written=4,
            failed=0,
            watermark="2026-11-26T11:00:00+00:00",
        )
        set_watermark(conn, "teelixir", "executions", "2026-11-26T11:00:00+00:00")
        start_run(conn, "boo", "executions", full=False, watermark=None)
    with engine.connect() as conn:
        assert get_watermark(conn, "teelixir", "executions") == "2026-11-26T11:00:00+00:00"
        runs = {r["id"]: r for r in recent_runs(conn, business_id="teelixir")}
        assert runs[first]["status"] == "interrupted" and runs[first]["finished_at"] is not None
        assert runs[second]["status"] == "succeeded" and runs[second]["written"] == 4
        assert runs[second]["watermark_before"] == "2026-11-26T10:00:00+00:00"
        assert [r["business_id"] for r in recent_runs(conn, entity="executions")].count("boo") == 1
