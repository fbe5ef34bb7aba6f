"""Schema migrations (Alembic) driven from code: upgrade, downgrade and status."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
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
