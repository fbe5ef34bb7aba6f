"""Schema migrations (Alembic) driven from code: upgrade, downgrade and status."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from sqlalchemy import Engine, func, inspect, select

from masterops.db.tables import QUERYABLE

MIGRATIONS = Path(__file__).parent / "migrations"


def _alembic_config() -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> str | None:
    """Bring the schema to ``revision``; returns the revision reached."""
    cfg = _alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    return current_revision(engine)


def downgrade(engine: Engine, revision: str) -> str | None:
    """Take the schema back to ``revision`` (``base`` removes everything)."""
    cfg = _alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)
    return current_revision(engine)


class RevisionError(ValueError):
    """A migration target that does not exist or lies the wrong way; the message says which."""


def known_revisions() -> list[str]:
    """Every revision id, oldest first."""
    script = ScriptDirectory.from_config(_alembic_config())
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


def _script(revision: str) -> Script | None:
    """The migration ``revision`` names (None for ``base``); RevisionError when none does."""
    if revision == "base":
        return None
    script = ScriptDirectory.from_config(_alembic_config())
    ids = known_revisions()
    if revision == "head" or revision in ids:
        found = script.get_revision(revision)
        if isinstance(found, Script):
            return found
    known = ", ".join(["base", *ids, "head"])
    raise RevisionError(f"unknown revision {revision!r}; known: {known}")


def revisions_to_revert(engine: Engine, target: str) -> list[Script]:
    """The migrations ``downgrade(engine, target)`` would revert, newest first.

    RevisionError when ``target`` is unknown or not below the current revision.
    """
    lower = _script(target)
    current = current_revision(engine)
    applied = [] if current is None else _applied(current)
    if lower is None:
        return applied
    ids = [rev.revision for rev in applied]
    if lower.revision not in ids[1:]:
        raise RevisionError(
            f"{target} is not below the current revision {current or 'empty'}: "
            "nothing to revert (ops db upgrade moves forward)"
        )
    return applied[: ids.index(lower.revision)]


def check_upgrade_target(target: str) -> None:
    """RevisionError when ``target`` names no migration."""
    _script(target)


def _applied(current: str) -> list[Script]:
    """The migrations applied up to ``current``, newest first."""
    script = ScriptDirectory.from_config(_alembic_config())
    return [rev for rev in script.iterate_revisions(current, "base") if isinstance(rev, Script)]


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def pending_revisions(engine: Engine) -> list[str]:
    """Revisions not yet applied, oldest first."""
    script = ScriptDirectory.from_config(_alembic_config())
    current = current_revision(engine)
    pending = [rev.revision for rev in script.iterate_revisions("head", current)]
    return list(reversed(pending))


@dataclass(frozen=True)
class SchemaStatus:
    revision: str | None
    head: str | None
    pending: list[str]
    row_counts: dict[str, int]

    @property
    def up_to_date(self) -> bool:
        return not self.pending


def schema_status(engine: Engine) -> SchemaStatus:
    existing = set(inspect(engine).get_table_names())
    counts: dict[str, int] = {}
    with engine.connect() as conn:
        for name, table in QUERYABLE.items():
            if name in existing:
                counts[name] = int(
                    conn.execute(select(func.count()).select_from(table)).scalar_one()
                )
    return SchemaStatus(
        current_revision(engine), head_revision(), pending_revisions(engine), counts
    )
