"""Shared fixtures.

* ``db_url`` / ``store``: parametrised over ``sqlite`` (a file in tmp_path, always) and
  ``postgresql`` (``GRIDREACH_TEST_PG_URL``, default ``postgresql://postgres@127.0.0.1:5432/test``),
  each PostgreSQL test in its own schema, dropped afterwards. An unreachable server
  deselects the PostgreSQL params with a note, unless ``GRIDREACH_REQUIRE_PG=1``: then
  those tests fail.
* a session-wide guard: any connection to a host outside loopback raises ``RuntimeError``.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
_pg_state: dict[str, Any] = {}


# ---- PostgreSQL availability -----------------------------------------------------------
def pg_url() -> str:
    return os.environ.get("GRIDREACH_TEST_PG_URL", DEFAULT_PG_URL)


def _libpq_dsn(url: str) -> str:
    scheme, rest = url.split("://", 1)
    return "postgresql://" + rest if scheme.startswith("postgresql") else url


def pg_problem() -> str | None:
    """Why PostgreSQL cannot be used for tests, or None when it can (checked once)."""
    if "problem" not in _pg_state:
        try:
            import psycopg2

            psycopg2.connect(_libpq_dsn(pg_url()), connect_timeout=3).close()
            _pg_state["problem"] = None
        except Exception as exc:  # any failure means: not reachable
            _pg_state["problem"] = (
                f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc) else ''}"
            )
    return _pg_state["problem"]


def _require_pg() -> bool:
    return os.environ.get("GRIDREACH_REQUIRE_PG", "") not in ("", "0", "false", "no")


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")  # no test process may try to phone home
    config.addinivalue_line("markers", "postgresql: runs against the PostgreSQL test server")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    pg_items = [i for i in items if _param(i, "db_url") == "postgresql"]
    if not pg_items or _require_pg() or pg_problem() is None:
        return
    config.hook.pytest_deselected(items=pg_items)
    chosen = set(map(id, pg_items))
    items[:] = [i for i in items if id(i) not in chosen]
    _pg_state["deselected"] = len(pg_items)


def _param(item: pytest.Item, name: str) -> Any:
    callspec = getattr(item, "callspec", None)
    return None if callspec is None else callspec.params.get(name)


def pytest_report_header(config: pytest.Config) -> str:
    return (
        f"gridreach: PostgreSQL tests use {pg_url()} (GRIDREACH_REQUIRE_PG={'1' if _require_pg() else '0'})"
    )


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _pg_state.get("deselected"):
        terminalreporter.write_line(
            f"NOTE: PostgreSQL at {pg_url()} is not reachable ({_pg_state['problem']}); "
            f"{_pg_state['deselected']} postgresql test(s) deselected. Set GRIDREACH_REQUIRE_PG=1 to make this fail.",
            yellow=True,
        )


# ---- database fixtures -----------------------------------------------------------------
def _with_search_path(url: str, schema: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"


def _pg_admin(sql: str) -> None:
    import psycopg2

    conn = psycopg2.connect(_libpq_dsn(pg_url()), connect_timeout=5)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SET lock_timeout = '20s'")
            cur.execute(sql)
    finally:
        conn.close()


@contextmanager
def empty_database(kind: str, directory: Path) -> Iterator[str]:
    """The URL of an empty database: a SQLite file in ``directory``, or a fresh PostgreSQL schema (dropped after)."""
    if kind == "sqlite":
        yield f"sqlite:///{directory / 'gridreach.db'}"
        return
    problem = pg_problem()
    if problem is not None:
        pytest.fail(f"GRIDREACH_REQUIRE_PG is set but PostgreSQL at {pg_url()} is unreachable: {problem}")
    schema = f"test_{uuid.uuid4().hex[:16]}"
    _pg_admin(f'CREATE SCHEMA "{schema}"')
    try:
        yield _with_search_path(pg_url(), schema)
    finally:
        _pg_admin(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)]


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database URL: a SQLite file, or a fresh PostgreSQL schema."""
    with empty_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def store(db_url: str) -> Iterator[Any]:
    """A migrated, empty ``gridreach.store.Store`` on each backend."""
    from gridreach.store import Store

    instance = Store.from_url(db_url)
    instance.migrate()
    try:
        yield instance
    finally:
        instance.close()


# ---- network guard ---------------------------------------------------------------------
def _is_local(host: Any) -> bool:
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    text = str(host).strip("[]").split("%", 1)[0]
    if text in ("", "localhost") or text.endswith(".localhost"):
        return True
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback or ip.is_unspecified


def _refuse(what: Any) -> None:
    raise RuntimeError(f"test tried to reach a real host: {what!r}")


@pytest.fixture(autouse=True, scope="session")
def _no_real_network() -> Iterator[None]:
    """Fail any test that connects anywhere but loopback or a unix socket."""
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
    real_create, real_getaddrinfo = socket.create_connection, socket.getaddrinfo

    def check(sock: socket.socket, address: Any) -> None:
        if getattr(socket, "AF_UNIX", None) is not None and sock.family == socket.AF_UNIX:
            return
        host = address[0] if isinstance(address, tuple) else address
        if not _is_local(host):
            _refuse(address)

    def connect(self: socket.socket, address: Any) -> None:
        check(self, address)
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        check(self, address)
        return real_connect_ex(self, address)

    def create_connection(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
        if not _is_local(address[0]):
            _refuse(address)
        return real_create(address, *args, **kwargs)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not _is_local(host):
            _refuse(host)
        return real_getaddrinfo(host, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket.socket, "connect", connect)
        mp.setattr(socket.socket, "connect_ex", connect_ex)
        mp.setattr(socket, "create_connection", create_connection)
        mp.setattr(socket, "getaddrinfo", getaddrinfo)
        yield
