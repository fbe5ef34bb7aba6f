"""Options every command shares, and the context each command runs in."""

from __future__ import annotations

from typing import Annotated

import typer

from masterops.operations.context import app_context

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
BusinessOpt = Annotated[
    str | None, typer.Option("--business", "-b", help="Only this business (its slug).")
]

#: The context each command runs in (closed, telemetry flushed, when the command ends).
command_context = app_context
