"""Options every command shares, and the context each command runs in."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import typer

from masterops.cli.errors import CommandFailed, UsageError
from masterops.operations.businesses import check_business
from masterops.operations.context import app_context

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
WideOpt = Annotated[
    bool,
    typer.Option("--wide", help="Every column, every value in full, times to the second."),
]
BusinessOpt = Annotated[
    str | None, typer.Option("--business", "-b", help="Only this business (its slug).")
]
YesOpt = Annotated[
    bool, typer.Option("--yes", "-y", help="Do it without asking (scripts must say so).")
]
DryRunOpt = Annotated[
    bool, typer.Option("--dry-run", help="Show what it would do, with counts; change nothing.")
]


# Beyond any table this platform keeps; above it a database integer overflows (SQLite's is
# 64-bit), and an operator who typed it meant "everything", which --limit never means.
MAX_ROWS = 1_000_000


def limit_option(help_text: str, *, minimum: int = 1) -> Any:
    """A ``--limit`` whose range the parser checks, so a huge value is one clear line."""
    return typer.Option("--limit", help=help_text, min=minimum, max=MAX_ROWS)


#: The context each command runs in (closed, telemetry flushed, when the command ends).
command_context = app_context


def confirm_destructive(question: str, *, yes: bool) -> None:
    """Go on only when told to: ``--yes``, or "y" typed at the terminal.

    Without a terminal to ask on and without ``--yes`` the command refuses rather than
    guessing: a script that destroys data must say so.
    """
    if yes:
        return
    if not sys.stdin.isatty():
        raise UsageError(
            "not confirmed and no terminal to ask on: pass --yes to go ahead "
            "(or --dry-run to see what it would do)"
        )
    if not typer.confirm(question, default=False, err=True):
        raise CommandFailed("cancelled: nothing was changed")


__all__ = ["check_business", "command_context", "confirm_destructive", "limit_option"]


def prune_cutoff(
    older_than: str, minimum: timedelta, *, force: bool, dry_run: bool, what: str
) -> datetime:
    """The time before which a prune deletes ``what`` (``--older-than AGE``): an age under
    ``minimum`` needs ``--force`` (or ``--dry-run``), so a typo cannot empty a table."""
    from masterops.timeparse import parse_duration

    try:
        age = parse_duration(older_than)
    except ValueError as exc:
        raise UsageError(f"--older-than: {exc}") from None
    if age < minimum and not (force or dry_run):
        raise UsageError(
            f"--older-than {older_than} would delete {what} younger than {minimum.days} days; "
            "pass --force to mean it (or --dry-run to see the counts)"
        )
    return datetime.now(UTC) - age
