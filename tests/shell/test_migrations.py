"""The Alembic migrations build exactly the schema the models describe, and upgrade old files."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config as AlembicConfig
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlmodel import SQLModel, select

import mailbot.shell.db.models  # noqa: F401  (registers the tables)
from mailbot.shell.db.models import UnitRow
from mailbot.shell.db.store import _MIGRATIONS, load_directory, make_engine, migrate, session_scope


def test_migrations_match_the_models(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    migrate(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert diff == [], diff


def test_a_database_of_the_first_release_upgrades_and_keeps_its_units(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
        conn.execute(text("INSERT INTO unit (id, name, short, aliases, series, parent, bulletin_to) "
                          "VALUES ('zd', '某镇直报点', '', '[]', '直报点', 'xa', '[]')"))  # fmt: skip
    migrate(engine)
    with session_scope(engine) as s:
        (row,) = s.exec(select(UnitRow)).all()
        assert (row.parent, row.other_parents) == ("xa", [])
        zd = load_directory(s).get("zd")
    assert zd is not None and zd.parents == ("xa",)
