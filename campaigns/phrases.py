"""The fixed texts the assistant says outside questionnaires (greeting, help, opt-out...), per language.

Texts live in ``phrases.yml`` beside this module so that translators edit data, not code, and so that the
voice caller can synthesise every fixed text ahead of a call.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from string import Formatter
from typing import Any

import yaml

__all__ = ["all_phrases", "phrase"]

_PATH = Path(__file__).with_name("phrases.yml")


@lru_cache(maxsize=1)
def _catalog() -> dict[str, dict[str, str]]:
    with _PATH.open(encoding="utf-8") as fh:
        data: dict[str, dict[str, str]] = yaml.safe_load(fh)
    for key, texts in data.items():
        missing = [lang for lang in ("zh", "en", "ko") if lang not in texts]
        if missing:
            raise ValueError(f"{_PATH}: phrase {key!r} lacks {', '.join(missing)}")
    return data


class _Blank(dict[str, str]):
    """Format fields that were not given render as empty text."""

    def __missing__(self, key: str) -> str:
        return ""


def phrase(key: str, language: str, **fields: Any) -> str:
    """The text ``key`` in ``language`` (falling back to Chinese), with ``{fields}`` filled in."""
    texts = _catalog()[key]
    text = Formatter().vformat(texts.get(language) or texts["zh"], (), _Blank(fields))
    # a field left empty ("your grid worker {grid_worker} has...") must not leave a gap behind
    return re.sub(r" +([,.;:!?])", r"\1", re.sub(r" {2,}", " ", text))


def all_phrases() -> dict[str, dict[str, str]]:
    """Every phrase in every language, for checks and for pre-synthesising speech."""
    return {key: dict(texts) for key, texts in _catalog().items()}
