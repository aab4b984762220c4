"""Train the Rasa model only when its inputs changed.

The model file is named after a content hash of everything that shapes it (``config.yml``, the domain, rules,
stories, NLU data, the custom NLU component, the Rasa version), so an unchanged project finds its model at once
and a changed one can never load a stale model.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

__all__ = ["PROJECT_ROOT", "ensure_model", "model_hash", "model_inputs", "model_path"]

PROJECT_ROOT = Path(__file__).resolve().parent.parent
_INPUT_GLOBS = ("config.yml", "dialogs/domain/**/*.yml", "dialogs/data/**/*.yml", "nlu_data/**/*.yml", "dialogs/nlu.py")


def model_inputs(root: Path = PROJECT_ROOT) -> list[Path]:
    """Every file the trained model depends on, in a stable order."""
    files: set[Path] = set()
    for pattern in _INPUT_GLOBS:
        files.update(p for p in root.glob(pattern) if p.is_file())
    return sorted(files)


def model_hash(root: Path = PROJECT_ROOT) -> str:
    digest = hashlib.sha256(f"rasa=={version('rasa')}\n".encode())
    for path in model_inputs(root):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def model_path(model_dir: Path, root: Path = PROJECT_ROOT) -> Path:
    return model_dir / f"gridreach-{model_hash(root)}.tar.gz"


def ensure_model(model_dir: Path, root: Path = PROJECT_ROOT, *, quiet: bool = False) -> Path:
    """The path of the trained model for the project as it is now, training it first if needed."""
    target = model_path(model_dir, root)
    if target.exists():
        return target
    model_dir.mkdir(parents=True, exist_ok=True)
    if not quiet:
        print(f"Training the Rasa model (inputs changed or no model yet) -> {target.name}", flush=True)
    cmd = [
        sys.executable, "-m", "rasa", "train",
        "--config", str(root / "config.yml"),
        "--domain", str(root / "dialogs" / "domain"),
        "--data", str(root / "nlu_data"), str(root / "dialogs" / "data"),
        "--out", str(model_dir),
        "--fixed-model-name", target.name.removesuffix(".tar.gz"),
    ]  # fmt: skip
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(root)}
    result = subprocess.run(cmd, cwd=root, env=env, capture_output=quiet, text=True)
    if result.returncode != 0 or not target.exists():
        tail = (result.stdout or "")[-2000:] + (result.stderr or "")[-2000:] if quiet else ""
        raise RuntimeError(f"rasa train failed (exit {result.returncode}). {tail}")
    for old in model_dir.glob("gridreach-*.tar.gz"):
        if old != target:
            old.unlink()
    return target
