"""The ways an operation refuses: a wrong argument, or a problem it found (a schema behind
the code being one with its own exit code)."""

from __future__ import annotations


class UsageError(Exception):
    """A wrong argument (a flag's value, an unknown business); the message names it."""


class OperationFailed(Exception):
    """The operation ran and found a problem; the message says what, ``exit_code`` how
    bad (the CLI exits with it)."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


# Distinct from 1 ("degraded" for ops health, a failure elsewhere): a schema behind the
# code is fixed by one command, `ops db upgrade`, and a monitor should be able to tell.
EXIT_SCHEMA_BEHIND = 3


class SchemaBehind(OperationFailed):
    """The database lacks migrations this version needs; exits 3."""

    def __init__(self, message: str) -> None:
        super().__init__(message, exit_code=EXIT_SCHEMA_BEHIND)
