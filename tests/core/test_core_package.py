"""Package rules: the error tree, the public surface, who imports SQLAlchemy, the network guard."""

from __future__ import annotations

import ast
import socket
import threading
from pathlib import Path

import pytest

import gridreach
from gridreach import errors

PACKAGE = Path(gridreach.__file__).resolve().parent


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_error_tree() -> None:
    assert issubclass(errors.ConfigError, errors.GridReachError)
    assert issubclass(errors.NotFound, errors.StorageError)
    assert issubclass(errors.QuestionnaireVersionConflict, errors.StorageError)
    assert issubclass(errors.ImportFileError, errors.GridReachError)
    definition = errors.DefinitionError(
        "campaigns/questionnaires/health.yml", 12, "unknown question type 'colour'"
    )
    assert str(definition) == "campaigns/questionnaires/health.yml:12: unknown question type 'colour'"
    assert (definition.path, definition.line) == ("campaigns/questionnaires/health.yml", 12)
    assert str(errors.ConfigError("GRIDREACH_ACTION_PORT", "must be an integer")).startswith(
        "GRIDREACH_ACTION_PORT"
    )
    assert issubclass(errors.RateLimited, errors.ChannelError)
    assert issubclass(errors.Refused, errors.ChannelError) and issubclass(errors.ChannelError, errors.GridReachError)
    assert str(errors.Refused(45015, "out of window")) == "refused (45015): out of window"
    assert errors.RateLimited(3).retry_after == 3.0
    assert set(errors.__all__) == {
        n for n, v in vars(errors).items() if isinstance(v, type) and issubclass(v, errors.GridReachError)
    }


def test_only_storage_imports_sqlalchemy() -> None:
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if {"sqlalchemy", "alembic"} & _imports(path)
        and path.relative_to(PACKAGE).parts[0] not in ("db", "store")
    ]
    assert offenders == []


def test_core_imports_no_other_gridreach_package() -> None:
    others = {"campaigns", "dialogs", "bots", "voice_caller", "gridreach_app", "rasa", "rasa_sdk"}
    offenders = {str(p.relative_to(PACKAGE)): others & _imports(p) for p in PACKAGE.rglob("*.py")}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_store_returns_no_orm_objects() -> None:
    from gridreach import store, views

    assert store.__all__ == ["Store"]
    assert all(getattr(views, name).__dataclass_params__.frozen for name in views.__all__)


@pytest.mark.parametrize(
    "call",
    [
        lambda: socket.create_connection(("203.0.113.7", 443), timeout=1),
        lambda: socket.getaddrinfo("example.com", 443),
        lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM).connect(("198.51.100.1", 80)),
        lambda: socket.socket(socket.AF_INET6, socket.SOCK_STREAM).connect_ex(("2001:db8::1", 80)),
    ],
)
def test_network_guard_blocks_real_hosts(call: object) -> None:
    with pytest.raises(RuntimeError, match="test tried to reach a real host"):
        call()  # type: ignore[operator]


def test_network_guard_allows_loopback() -> None:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    accepted = threading.Thread(target=lambda: server.accept()[0].close())
    accepted.start()
    try:
        with socket.create_connection(("localhost", port), timeout=5) as client:
            assert client.getpeername()[0] in ("127.0.0.1", "::1")
        assert socket.getaddrinfo("127.0.0.1", port)
    finally:
        accepted.join(5)
        server.close()
