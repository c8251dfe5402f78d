"""The database edge: engine, migrations, sessions and the few queries shared by commands.

SQLite (the embedded default) runs in WAL mode with a busy timeout so the
daemon and a CLI command can share the file; PostgreSQL is used as is.
"""

from __future__ import annotations

import fcntl
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import event, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, create_engine, select

from mailbot.core.submission.units import Unit, UnitDirectory
from mailbot.shell.db.models import Counter, Officer, Setting, UnitRow

_MIGRATIONS = Path(__file__).with_name("migrations")


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def make_engine(url: str) -> Engine:
    """An engine for `url`; creates the SQLite file's folder when needed."""
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///") :]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (idempotent; concurrent starts wait for each other)."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    with _sqlite_lock(engine, "migrate"), engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            # Several daemons may start together: one migrates, the others wait.
            conn.execute(text("SELECT pg_advisory_xact_lock(7312001)"))
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


@contextmanager
def _sqlite_lock(engine: Engine, name: str) -> Iterator[None]:
    """An exclusive flock beside a SQLite file (a daemon and a CLI command starting together)."""
    path = engine.url.database if engine.dialect.name == "sqlite" else None
    if not path or path == ":memory:":
        yield
        return
    fd = os.open(f"{path}.{name}-lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def open_engine(url: str) -> Engine:
    """make_engine + migrate: what every command uses."""
    engine = make_engine(url)
    migrate(engine)
    return engine


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session whose transaction commits on success and rolls back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def sync_units(session: Session, directory: UnitDirectory) -> None:
    """Upsert units and officers from units.toml; never deletes (items refer to units)."""
    if session.get_bind().dialect.name == "postgresql":
        # Daemons starting together on a fresh database: one inserts, the others wait and update.
        session.execute(text("SELECT pg_advisory_xact_lock(7312002)"))
    existing = {u.id: u for u in session.exec(select(UnitRow)).all()}
    officers = {(o.unit_id, o.address) for o in session.exec(select(Officer)).all()}
    for unit in directory.units:
        row = existing.get(unit.id) or UnitRow(id=unit.id, name=unit.name, series=unit.series)
        row.name, row.short, row.series, row.parent = unit.name, unit.short, unit.series, unit.parent
        row.other_parents = list(unit.other_parents)
        row.aliases, row.bulletin_to = list(unit.aliases), list(unit.bulletin_to)
        session.add(row)
    session.flush()
    for unit in directory.units:
        for addr in unit.officers:
            if (unit.id, addr) not in officers:
                session.add(Officer(unit_id=unit.id, address=addr))
                officers.add((unit.id, addr))


def load_directory(session: Session) -> UnitDirectory:
    """The unit directory as the database has it (units.toml plus imports)."""
    by_unit: dict[str, list[str]] = {}
    for o in session.exec(select(Officer).order_by(Officer.id)).all():  # type: ignore[arg-type]
        by_unit.setdefault(o.unit_id, []).append(o.address)
    rows = session.exec(select(UnitRow)).all()
    return UnitDirectory(
        [
            Unit(
                id=r.id,
                name=r.name,
                series=r.series,
                short=r.short,
                aliases=tuple(r.aliases),
                parent=r.parent,
                other_parents=tuple(r.other_parents or ()),
                officers=tuple(by_unit.get(r.id, ())),
                bulletin_to=tuple(r.bulletin_to),
            )
            for r in rows
        ]
    )


def next_value(session: Session, name: str) -> int:
    """Advance counter `name` and return the new value, under the row's write lock."""
    updated = session.execute(
        text("UPDATE counter SET value = value + 1 WHERE name = :n"), {"n": name}
    ).rowcount  # type: ignore[attr-defined]
    if not updated:
        session.add(Counter(name=name, value=1))
        session.flush()
        return 1
    row = session.get(Counter, name)
    assert row is not None
    session.refresh(row)
    return row.value


def get_secret(engine: Engine, configured: str | None) -> bytes:
    """The HMAC key: configured, else generated once and kept in the database."""
    if configured:
        return configured.encode()
    try:
        with session_scope(engine) as s:
            row = s.get(Setting, "hmac_secret")
            if row is None:
                s.add(Setting(key="hmac_secret", value=secrets.token_hex(32)))
    except IntegrityError:
        pass  # another process created it first: read theirs
    with session_scope(engine) as s:
        got = s.get(Setting, "hmac_secret")
        assert got is not None
        return got.value.encode()


def _setting_insert(dialect: str, key: str, value: str) -> Any:
    """An INSERT of one setting row in the dialect that can say what to do on conflict."""
    table = Setting.__table__  # type: ignore[attr-defined]
    if dialect == "postgresql":
        return pg_insert(table).values(key=key, value=value)
    if dialect == "sqlite":
        return sqlite_insert(table).values(key=key, value=value)
    raise NotImplementedError(f"settings on {dialect}: only SQLite and PostgreSQL are supported")


def put_setting(engine: Engine, key: str, value: str) -> None:
    """Record a small piece of state (heartbeats for `mailbot status`), in its own transaction.

    An upsert, because several daemons (PostgreSQL) write the same heartbeat keys at once.
    """
    stmt = _setting_insert(engine.dialect.name, key, value)
    with engine.begin() as conn:
        conn.execute(stmt.on_conflict_do_update(index_elements=["key"], set_={"value": stmt.excluded.value}))


def add_setting_once(s: Session, key: str, value: str) -> bool:
    """Insert a setting unless it exists, in `s`'s transaction; True only for the one that inserted it.

    Of several processes racing, exactly one is told it was first.
    """
    table = Setting.__table__  # type: ignore[attr-defined]
    stmt = _setting_insert(s.get_bind().dialect.name, key, value).on_conflict_do_nothing(index_elements=["key"])
    # RETURNING, not rowcount: through psycopg this insert's rowcount is -1 either way.
    return s.connection().execute(stmt.returning(table.c.key)).first() is not None
