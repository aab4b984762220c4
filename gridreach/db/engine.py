"""Engine factory: SQLite (WAL, foreign keys, busy timeout) or PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

__all__ = ["make_engine", "private_file", "session_scope"]

SQLITE_BUSY_TIMEOUT_MS = 30_000


def private_file(path: Path) -> None:
    """Create ``path`` (and its directory) readable by this user only, or take group / other access away from it.

    Residents' answers live in it; SQLite gives its ``-wal`` and ``-shm`` files the database file's permissions."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        info = path.stat()
        if info.st_mode & 0o077 and info.st_uid == os.getuid():
            path.chmod(0o600)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create a SQLAlchemy 2.0-style (``future=True``) engine for ``url``.

    SQLite: creates the database's parent directory, turns on WAL, foreign keys and a
    busy timeout, and lets SQLAlchemy drive transactions (``BEGIN`` is emitted by us,
    so savepoints work; write sessions use ``BEGIN IMMEDIATE``).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        kwargs.setdefault("pool_pre_ping", True)
        return create_engine(url, future=True, **kwargs)

    database = parsed.database
    if database and database != ":memory:" and not database.startswith("file:"):
        private_file(Path(database).expanduser())
    connect_args = kwargs.pop("connect_args", {})
    connect_args.setdefault("timeout", SQLITE_BUSY_TIMEOUT_MS / 1000)
    connect_args.setdefault("check_same_thread", False)
    engine = create_engine(url, future=True, connect_args=connect_args, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, see below
        cursor = dbapi_connection.cursor()
        try:
            if database and database != ":memory:":
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


@contextmanager
def session_scope(engine: Engine, write: bool = False) -> Iterator[Session]:
    """A session in one transaction: committed on success, rolled back on error.

    ``write=True`` on SQLite takes the write lock up front (``BEGIN IMMEDIATE``) so two
    writers queue on the busy timeout instead of failing to upgrade a read lock.
    """
    bind = engine.execution_options(sqlite_begin="IMMEDIATE") if write else engine
    session = Session(bind=bind, future=True, expire_on_commit=False)
    try:
        with session.begin():
            yield session
    finally:
        session.close()
