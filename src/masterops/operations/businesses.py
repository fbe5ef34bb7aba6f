"""The one check of a ``business`` argument, shared by every command, job and operation."""

from __future__ import annotations

from masterops.config import Business, Config
from masterops.operations.errors import UsageError


def check_business(config: Config, business: str | None) -> None:
    """``UsageError`` naming the known businesses when ``business`` is not one of them."""
    if business is not None and business not in config.businesses:
        known = ", ".join(config.businesses) or "none"
        raise UsageError(f"--business: unknown business {business!r}; known: {known}")


def select_businesses(config: Config, business: str | None) -> list[Business]:
    """The business named (checked), or every configured one."""
    check_business(config, business)
    if business is None:
        return list(config.businesses.values())
    return [config.businesses[business]]
