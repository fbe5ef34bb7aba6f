"""``GET /events/logs``: the live log tail as server-sent events.

Each new ``integration_logs`` row the viewer may see (and that passes the filters:
business, service, minimum level) is one ``log`` event whose id is the row id, so a
browser that reconnects (``Last-Event-ID``) resumes where it stopped. The stream polls the
database once a second (rows are written by other processes: there is nothing to wait
on here), sends a comment now and then so proxies keep it open, and ends after a few
minutes (``WebSettings.log_stream_s``); the browser's EventSource reconnects on its own,
which also re-checks the session, so a revoked token stops streaming within one period.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from masterops.web.pages import readings
from masterops.web.pages.access import SignInFirst, viewer
from masterops.web.pages.views import log_filters
from masterops.web.responses import error

POLL_S = 1.0
KEEPALIVE_S = 15.0
BATCH = 200


def _event(row: dict[str, Any]) -> str:
    data = {
        "id": row["id"],
        "at": row["created_at"].isoformat() if row["created_at"] is not None else None,
        "level": row["level"],
        "business": row["business_id"],
        "service": row["service"],
        "source": row["source"],
        "operation": row["operation"],
        "message": row["message"],
    }
    # json.dumps escapes newlines, so one event is one data line.
    return f"id: {row['id']}\nevent: log\ndata: {json.dumps(data)}\n\n"


def _start_after(request: Request) -> int | None:
    raw = request.headers.get("last-event-id") or request.query_params.get("after")
    if raw is None or not raw.isdigit() or len(raw) > 18:
        return None
    return int(raw)


async def log_events(request: Request) -> Response:
    try:
        who = await viewer(request)
    except SignInFirst:
        return error(401, "missing_token", "sign in to the dashboard first")
    filters = log_filters(request, who)
    after = _start_after(request)
    engine = request.app.state.engine
    loop = asyncio.get_running_loop()
    lifetime: float = request.app.state.settings.log_stream_s

    def read(after_id: int | None) -> list[dict[str, Any]]:
        with engine.connect() as conn:
            return readings.log_lines(
                conn,
                who.grant.businesses,
                **filters,
                after_id=after_id,
                limit=BATCH if after_id is not None else 1,
            )

    async def stream() -> AsyncIterator[str]:
        last = after
        if last is None:  # start at the newest row: the page already shows the ones before
            newest = await run_in_threadpool(read, None)
            last = newest[-1]["id"] if newest else 0
        yield "retry: 2000\n\n"
        started = quiet_since = loop.time()
        while loop.time() - started < lifetime and not await request.is_disconnected():
            rows = await run_in_threadpool(read, last)
            for row in rows:
                yield _event(row)
                last = row["id"]
            if rows:
                quiet_since = loop.time()
            elif loop.time() - quiet_since > KEEPALIVE_S:
                yield ": keep-alive\n\n"
                quiet_since = loop.time()
            if len(rows) < BATCH:
                await asyncio.sleep(POLL_S)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"cache-control": "no-store", "x-accel-buffering": "no"},
    )
