"""``ops slo``: each service's availability and latency objectives, budget and burn."""

from __future__ import annotations

from datetime import UTC, datetime

from masterops.cli.options import JsonOpt, WideOpt, command_context
from masterops.cli.output import print_json, print_table


def slo(json_output: JsonOpt = False, wide: WideOpt = False) -> None:
    """Per service: objectives from ``[slo]``, how they are met over the SLO window, the
    error budget left, and the burn rate over the last 1 h and 6 h."""
    from masterops.alerts.slo import slo_report

    with command_context(json_output) as context, context.database().connect() as conn:
        report = slo_report(conn, context.config.slo, datetime.now(UTC))
    if json_output:
        print_json([entry.as_dict() for entry in report])
        return
    rows = [
        {
            "service": entry.service,
            "objective": o.name + (f" < {entry.latency_ms:g} ms" if o.name == "latency" else ""),
            "target_pct": o.target_percent,
            f"last_{entry.window_days}d_pct": o.window_percent,
            "budget_left_pct": o.budget_left_percent,
            "burn_1h": o.burn_1h,
            "burn_6h": o.burn_6h,
        }
        for entry in report
        for o in entry.objectives
    ]
    print_table(
        rows, title="Service level objectives", empty="no API calls in the SLO window", wide=wide
    )
