"""Turning the errors an operator can cause into one clear line and an exit code."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable
from typing import TypeVar

import typer

# typer carries its own copy of click; its parser errors are these classes, not click's.
from typer._click.exceptions import NoArgsIsHelpError
from typer.exceptions import TyperException

from masterops.config import ConfigError
from masterops.operations.errors import OperationFailed as CommandFailed
from masterops.operations.errors import SchemaBehind, UsageError

T = TypeVar("T")


def _user_errors() -> tuple[type[Exception], ...]:
    """The errors an operator causes. Imported only once something went wrong, so that a
    command that never touches the database does not load SQLAlchemy to start."""
    from masterops.db.engine import DatabaseURLError
    from masterops.db.queries import QueryError
    from masterops.tasks.store import TaskError

    return (ConfigError, DatabaseURLError, QueryError, TaskError, UsageError)


def _database_errors() -> tuple[type[Exception], ...]:
    from sqlalchemy.exc import OperationalError, ProgrammingError

    return (OperationalError, ProgrammingError)


def _database_message(exc: Exception) -> str:
    original = getattr(exc, "orig", None) or exc
    first_line = str(original).strip().splitlines()[0] if str(original).strip() else ""
    return f"database error: {first_line or type(original).__name__}"


def usage_line(exc: TyperException) -> str:
    """A flag or command the parser refused, as one line naming where to read more."""
    message = exc.format_message().strip().rstrip(".")
    ctx = getattr(exc, "ctx", None)
    if ctx is None:
        return message
    return f"{message} (see '{ctx.command_path} --help')"


def run_guarded(fn: Callable[[], T]) -> T:
    """Run ``fn``; known errors print ``error: ...`` on stderr and exit non-zero, no traceback.

    Set ``MASTEROPS_DEBUG=1`` to see the traceback of an unexpected error.
    """
    try:
        return fn()
    except NoArgsIsHelpError as exc:
        # A group called without a subcommand: its help is the answer, not an error box.
        print(exc.ctx.get_help(), file=sys.stderr)
        raise SystemExit(2) from None
    except TyperException as exc:
        print(f"error: {usage_line(exc)}", file=sys.stderr)
        raise SystemExit(exc.exit_code) from None
    except typer.Abort:
        print("aborted", file=sys.stderr)
        raise SystemExit(1) from None
    except CommandFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(exc.exit_code) from None
    except (ConfigError, UsageError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2 if isinstance(exc, UsageError) else 1) from None
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        raise SystemExit(130) from None
    except (SystemExit, BrokenPipeError):
        raise
    except Exception as exc:
        if isinstance(exc, _user_errors()):
            print(f"error: {exc}", file=sys.stderr)
            raise SystemExit(1) from None
        if isinstance(exc, _database_errors()):
            print(f"error: {_database_message(exc)}", file=sys.stderr)
            raise SystemExit(1) from None
        if os.environ.get("MASTEROPS_DEBUG"):
            traceback.print_exc()
        else:
            print(
                f"error: unexpected {type(exc).__name__}: {exc} "
                "(set MASTEROPS_DEBUG=1 for the traceback)",
                file=sys.stderr,
            )
        raise SystemExit(1) from None


__all__ = ["CommandFailed", "SchemaBehind", "UsageError", "run_guarded"]
