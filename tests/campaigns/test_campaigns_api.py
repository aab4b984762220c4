"""The public surface of campaigns, and its dependency rule."""

from __future__ import annotations

import ast
from pathlib import Path

import campaigns

FORBIDDEN = {"dialogs", "bots", "voice_caller", "rasa", "rasa_sdk", "gridreach_app", "sqlalchemy"}


def test_all_names_exist() -> None:
    assert len(set(campaigns.__all__)) == len(campaigns.__all__)
    for name in campaigns.__all__:
        assert hasattr(campaigns, name), name


def test_campaigns_imports_no_outer_package() -> None:
    root = Path(campaigns.__file__).parent
    for path in root.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in FORBIDDEN, f"{path.name} imports {name}"


def test_modules_stay_small() -> None:
    for path in Path(campaigns.__file__).parent.glob("*.py"):
        assert len(path.read_text(encoding="utf-8").splitlines()) <= 300, path.name
