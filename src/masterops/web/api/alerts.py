"""Alert routes: what was announced (or tried) through each channel, and acknowledging
an alert (operate), which keeps its subject quiet until it recovers.

A token limited to some businesses reads and acknowledges only their alerts.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import Field
from sqlalchemy import Connection, select
from starlette.concurrency import run_in_threadpool

from masterops.alerts.acks import open_acks
from masterops.db.tables import alert_history
from masterops.operations.alerts import acknowledge_alert
from masterops.web.api.common import MAX_ROWS, Operator, Reader, RowId, read
from masterops.web.api.tasks import Body
from masterops.web.auth import forbidden, visible_businesses
from masterops.web.responses import JSON, BadRequest

router = APIRouter()


class AckRequest(Body):
    note: str | None = Field(default=None, max_length=1000)


def _row(row: Any, acked: bool) -> dict[str, Any]:
    found = dict(row._mapping)
    found["acknowledged"] = acked
    return found


def _one(conn: Connection, alert_id: int) -> Any:
    return conn.execute(select(alert_history).where(alert_history.c.id == alert_id)).first()


@router.get("/alerts", summary="Alerts, one row per channel attempt, newest first")
async def list_alerts(
    request: Request,
    grant: Reader,
    business: Annotated[str | None, Query(max_length=64)] = None,
    delivered: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_ROWS)] = 100,
) -> JSON:
    businesses = visible_businesses(grant, business)
    t = alert_history

    def reader(conn: Connection) -> dict[str, Any]:
        stmt = select(t).order_by(t.c.id.desc()).limit(limit)
        if businesses != [None]:
            stmt = stmt.where(t.c.business_id.in_([b for b in businesses if b is not None]))
        if delivered is not None:
            stmt = stmt.where(t.c.delivered.is_(delivered))
        rows = conn.execute(stmt).all()
        acks = open_acks(conn, {(r.business_id, r.service) for r in rows})
        alerts = [_row(r, (r.business_id, r.service) in acks) for r in rows]
        return {"count": len(alerts), "alerts": alerts}

    return await read(request, reader)


@router.get("/alerts/{alert_id}", summary="One alert attempt in full")
async def show_alert(request: Request, grant: Reader, alert_id: RowId) -> JSON:
    engine = request.app.state.engine

    def reader() -> dict[str, Any] | None:
        with engine.connect() as conn:
            row = _one(conn, alert_id)
            if row is None or not grant.sees(row.business_id):
                return None  # another business's alert is not there for this token
            acks = open_acks(conn, {(row.business_id, row.service)})
            return _row(row, bool(acks))

    found = await run_in_threadpool(reader)
    if found is None:
        raise BadRequest(f"no alert {alert_id}", status=404, code="not_found")
    return JSON(found)


@router.post("/alerts/{alert_id}/ack", summary="Acknowledge an alert until it recovers (operate)")
async def ack_alert(
    request: Request, grant: Operator, alert_id: RowId, body: AckRequest | None = None
) -> JSON:
    engine = request.app.state.engine

    def find() -> Any:
        with engine.connect() as conn:
            return _one(conn, alert_id)

    row = await run_in_threadpool(find)
    if row is None:
        raise BadRequest(f"no alert {alert_id}", status=404, code="not_found")
    if not grant.sees(row.business_id):
        raise forbidden(
            "business_not_allowed",
            f"token {grant.name!r} may not acknowledge alerts of {row.business_id!r}",
        )
    note = body.note if body is not None else None
    done = await run_in_threadpool(
        lambda: acknowledge_alert(engine, str(alert_id), note=note, acked_by=grant.name)
    )
    return JSON(done.to_dict(), status_code=201)
