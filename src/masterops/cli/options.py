"""Options every command shares, and the context each command runs in."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from masterops.cli.context import AppContext

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
WideOpt = Annotated[
    bool,
    typer.Option("--wide", help="Every column, every value in full, times to the second."),
]
BusinessOpt = Annotated[
    str | None, typer.Option("--business", "-b", help="Only this business (its slug).")
]


@contextmanager
def command_context(json_output: bool = False) -> Iterator[AppContext]:
    ctx = AppContext(json_output=json_output)
    try:
        yield ctx
    finally:
        ctx.close()
