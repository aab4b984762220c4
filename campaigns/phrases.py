"""The phrase catalogue: every fixed text a resident or a grid worker sees in chat or hears on the phone.

Texts live in ``phrases.yml`` beside this module so that translators edit data, not code, and so that the
voice caller can synthesise every spoken text ahead of a call. Layout (documented at the top of the YAML too):

* a phrase is a mapping of exactly ``zh``, ``en`` and ``ko``; every language has the same ``{fields}`` as ``zh``;
* a namespace is a nested mapping of phrases. Top-level phrases are what the dialogue and the voice caller say
  (``greeting``); the rest is looked up with a dotted key: the engine's texts (``engine.confirm``), the units
  (``units.celsius``), each question type's reprompt and labels (``qtypes.choice.reprompt``, ``qtypes.yes_no.yes``)
  and a channel's own wording under the channel's name (``telegram.ask_bind``, ``wechat.welcome``).

The catalogue is checked when it is loaded: a missing or unknown language, an empty text or fields that differ
from Chinese raise ``DefinitionError`` at ``phrases.yml:line``, naming the phrase.

One fallback rule for languages, used by every channel: ``language_of`` reads a language tag (``zh-CN``,
``ko_KR``, ``EN``) as one of ours and anything else (None, ``fr``) as Chinese. ``both`` renders Chinese and
English together, for people whose language is not known yet (group posts, WeChat residents before binding).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from string import Formatter
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import YAMLError

from campaigns._yamlcheck import Checker, key_line, node_line, value_line
from campaigns.errors import DefinitionError

__all__ = ["LANGUAGES", "all_phrases", "both", "language_of", "load_phrases", "phrase", "spoken_phrases"]

#: The languages every phrase has, Chinese first: it is the fallback.
LANGUAGES = ("zh", "en", "ko")
_PATH = Path(__file__).with_name("phrases.yml")


def _fields(text: str) -> set[str]:
    """The ``{field}`` names in ``text`` (``{{`` and ``}}`` are literal braces)."""
    return {name.split(".")[0].split("[")[0] for _, name, _, _ in Formatter().parse(text) if name is not None}


def _phrase(check: Checker, node: CommentedMap, key: str, parent: CommentedMap, name: Any) -> dict[str, str]:
    for lang in node:
        if lang not in LANGUAGES:
            check.fail(key_line(node, lang), f"phrase '{key}' has language '{lang}' (allowed: {', '.join(LANGUAGES)})")
    for lang in LANGUAGES:
        if lang not in node:
            check.fail(key_line(parent, name), f"phrase '{key}' has no '{lang}' text")
        check.get(node, lang, str, required=True)
    try:
        wanted = _fields(node["zh"])
    except ValueError:
        check.fail(value_line(node, "zh"), f"phrase '{key}' (zh) has an unbalanced brace")
    for lang in LANGUAGES[1:]:
        try:
            found = _fields(node[lang])
        except ValueError:
            check.fail(value_line(node, lang), f"phrase '{key}' ({lang}) has an unbalanced brace")
        if found != wanted:
            fields = ", ".join(f"{{{f}}}" for f in sorted(wanted)) or "none"
            check.fail(value_line(node, lang), f"phrase '{key}' ({lang}) must have the fields of zh ({fields}); "
                       f"it has {', '.join(f'{{{f}}}' for f in sorted(found)) or 'none'}")
    return {lang: str(node[lang]) for lang in LANGUAGES}


def _walk(check: Checker, node: CommentedMap, prefix: str, into: dict[str, dict[str, str]]) -> None:
    if not node:
        check.fail(node_line(node), f"namespace '{prefix.rstrip('.')}' is empty" if prefix else "no phrases")
    for name, value in node.items():
        key = f"{prefix}{name}"
        if not isinstance(name, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", name):
            check.fail(key_line(node, name), f"'{key}': a phrase or namespace name is lower_case_with_underscores")
        value = check.mapping(value, value_line(node, name), f"'{key}'")
        if any(lang in value for lang in LANGUAGES) or not value:
            into[key] = _phrase(check, value, key, node, name)
        else:
            _walk(check, value, f"{key}.", into)


def load_phrases(path: str | Path) -> dict[str, dict[str, str]]:
    """Every phrase of the catalogue at ``path`` by dotted key, checked; ``DefinitionError`` names the line."""
    check = Checker(str(path))
    try:
        with Path(path).open(encoding="utf-8") as fh:
            doc = YAML(typ="rt").load(fh)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise DefinitionError(str(path), mark.line + 1 if mark is not None else None, f"not valid YAML: {exc}") from None
    phrases: dict[str, dict[str, str]] = {}
    _walk(check, check.mapping(doc, 1, "the phrase catalogue"), "", phrases)
    return phrases


@lru_cache(maxsize=1)
def _catalog() -> dict[str, dict[str, str]]:
    return load_phrases(_PATH)


def language_of(language: str | None) -> str:
    """Our language for a language tag: ``zh-CN`` → ``zh``, ``ko_KR`` → ``ko``; None or a language we lack → ``zh``."""
    code = (language or "").strip().lower().replace("_", "-")
    for lang in LANGUAGES:
        if code == lang or code.startswith(lang + "-"):
            return lang
    return LANGUAGES[0]


class _Blank(dict[str, str]):
    """Format fields that were not given render as empty text."""

    def __missing__(self, key: str) -> str:
        return ""


def phrase(key: str, language: str | None, **fields: Any) -> str:
    """The text ``key`` (dotted for a namespace's: ``telegram.ask_bind``) in ``language_of(language)``, filled in.

    When a field is left empty, the gap it leaves (double spaces, a space before punctuation) is closed; when every
    field is filled, the values are kept as given.
    """
    template = _catalog()[key][language_of(language)]
    text = Formatter().vformat(template, (), _Blank(fields))
    if all(str(fields.get(name, "")) for name in _fields(template)):
        return text  # every field filled: the values as given ("您说的是Beijing , Chaoyang，对吗？")
    # a field left empty ("your grid worker {grid_worker} has...") must not leave a gap behind
    return re.sub(r" +([,.;:!?])", r"\1", re.sub(r" {2,}", " ", text))


def both(key: str, *, sep: str = "\n", **fields: Any) -> str:
    """Chinese, then English, for people whose language is not known yet (``收到 / Received`` with ``sep=" / "``)."""
    return phrase(key, "zh", **fields) + sep + phrase(key, "en", **fields)


def all_phrases() -> dict[str, dict[str, str]]:
    """Every phrase in every language by dotted key, for checks."""
    return {key: dict(texts) for key, texts in _catalog().items()}


def spoken_phrases() -> dict[str, dict[str, str]]:
    """The top-level phrases the dialogue and the voice caller say, for pre-synthesising speech (the namespaced
    ``engine.*`` / ``units.*`` / ``qtypes.*`` texts are said filled in: ``voice_caller.prompts`` renders them per
    questionnaire through ``campaigns.messages``)."""
    return {key: dict(texts) for key, texts in _catalog().items() if "." not in key}
