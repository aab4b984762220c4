"""The model is retrained only when what shapes it changed."""

from __future__ import annotations

import shutil
from pathlib import Path

from gridreach_app.model import PROJECT_ROOT, model_hash, model_inputs, model_path


def copy_project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    for path in model_inputs(PROJECT_ROOT):
        target = root / path.relative_to(PROJECT_ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
    return root


def test_hash_covers_config_domain_rules_and_nlu_data() -> None:
    names = {p.relative_to(PROJECT_ROOT).as_posix() for p in model_inputs()}
    assert "config.yml" in names
    assert any(n.startswith("dialogs/domain/") for n in names)
    assert any(n.startswith("dialogs/data/") for n in names)
    assert {"zh", "en", "ko"} <= {n.split("/")[1] for n in names if n.startswith("nlu_data/")}


def test_same_inputs_same_model_changed_inputs_new_model(tmp_path: Path) -> None:
    root = copy_project(tmp_path)
    assert model_hash(root) == model_hash(PROJECT_ROOT)
    (root / "notes.txt").write_text("not a model input")
    assert model_hash(root) == model_hash(PROJECT_ROOT)
    nlu = root / "nlu_data" / "zh" / "answers.yml"
    nlu.write_text(nlu.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert model_hash(root) != model_hash(PROJECT_ROOT)
    assert model_path(tmp_path, root).name != model_path(tmp_path, PROJECT_ROOT).name


def test_questionnaires_are_not_model_inputs() -> None:
    # Questionnaires are data for the engine: editing one needs no retraining.
    assert not [p for p in model_inputs() if "questionnaires" in p.parts]
