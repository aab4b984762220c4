"""The dependency rules of docs/ARCHITECTURE.md, checked on the source."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ["gridreach", "campaigns", "dialogs", "bots", "voice_caller", "gridreach_app", "gridreach_demo",
            "gridreach_fakes"]
OURS = {*PACKAGES, "tests", "bench"}
_OUTSIDE_APP = {"gridreach_demo", "gridreach_fakes", "tests", "bench"}
# package -> top-level packages of ours it must never import
FORBIDDEN = {
    "gridreach": {"campaigns", "dialogs", "bots", "voice_caller", "gridreach_app"} | _OUTSIDE_APP,
    "campaigns": {"dialogs", "bots", "voice_caller", "gridreach_app", "rasa", "rasa_sdk"} | _OUTSIDE_APP,
    "dialogs": {"bots", "voice_caller", "gridreach_app"} | _OUTSIDE_APP,
    "bots": {"voice_caller", "gridreach_app", "dialogs"} | _OUTSIDE_APP,
    "voice_caller": {"bots", "gridreach_app", "dialogs"} | _OUTSIDE_APP,
    "gridreach_app": _OUTSIDE_APP,
    "gridreach_demo": {"tests", "bench"},
    # the fakes are written from the vendors' documentation, never from our adapters: they import none of ours
    "gridreach_fakes": OURS - {"gridreach_fakes"},
}


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def sources(package: str) -> list[Path]:
    return [p for p in (ROOT / package).rglob("*.py") if "migrations" not in p.parts]


def test_nothing_outside_the_tests_imports_them() -> None:
    bad = [
        str(path.relative_to(ROOT))
        for path in [*(ROOT / "bench").rglob("*.py"), *(p for package in PACKAGES for p in sources(package))]
        if "tests" in imports(path)
    ]
    assert not bad


@pytest.mark.parametrize("package", PACKAGES)
def test_every_public_module_declares_all(package: str) -> None:
    missing = [
        str(path.relative_to(ROOT))
        for path in sources(package)
        if not path.name.startswith("_") or path.name == "__init__.py"
        if not any(
            isinstance(node, (ast.Assign, ast.AnnAssign))
            and any(getattr(t, "id", None) == "__all__" for t in getattr(node, "targets", [getattr(node, "target", None)]))
            for node in ast.parse(path.read_text(encoding="utf-8")).body
        )
    ]
    assert not missing, missing


@pytest.mark.parametrize("package", PACKAGES)
def test_dependencies_point_one_way(package: str) -> None:
    bad = {
        f"{path.relative_to(ROOT)} imports {name}"
        for path in sources(package)
        for name in imports(path) & FORBIDDEN[package]
    }
    assert not bad, sorted(bad)


def test_only_the_core_imports_sqlalchemy() -> None:
    bad = [
        str(path.relative_to(ROOT))
        for package in PACKAGES
        if package != "gridreach"
        for path in sources(package)
        if "sqlalchemy" in imports(path)
    ]
    assert not bad


@pytest.mark.parametrize("package", PACKAGES)
def test_modules_stay_small(package: str) -> None:
    big = [f"{p.relative_to(ROOT)}: {n}" for p in sources(package) if (n := len(p.read_text().splitlines())) > 400]
    assert not big
