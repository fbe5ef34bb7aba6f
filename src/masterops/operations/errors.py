"""The two ways an operation refuses: a wrong argument, or a problem it found."""

from __future__ import annotations


class UsageError(Exception):
    """A wrong argument (a flag's value, an unknown business); the message names it."""


class OperationFailed(Exception):
    """The operation ran and found a problem; the message says what, ``exit_code`` how
    bad (the CLI exits with it)."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code
