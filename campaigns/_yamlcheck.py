"""Located checks on ruamel round-trip nodes: every failure is ``path:line: reason``."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, NoReturn

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from campaigns.errors import DefinitionError

_UNSPEAKABLE = re.compile("[\U0001F000-\U0001FAFF\u2600-\u27BF\uFE0F]")
_SCREEN_WORDS = ("click", "点击", "點擊", "클릭", "tap here")
_MISSING = object()


def key_line(node: CommentedMap, key: Any) -> int:
    """1-based line of ``key`` in a mapping."""
    return int(node.lc.key(key)[0]) + 1


def value_line(node: CommentedMap, key: Any) -> int:
    """1-based line of the value under ``key``."""
    return int(node.lc.value(key)[0]) + 1


def item_line(seq: CommentedSeq, index: int) -> int:
    """1-based line of list item ``index``."""
    return int(seq.lc.item(index)[0]) + 1


def node_line(node: Any, fallback: int = 1) -> int:
    """1-based first line of a mapping or list node."""
    lc = getattr(node, "lc", None)
    return int(lc.line) + 1 if lc is not None and lc.line is not None else fallback


_TYPE_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false",
               CommentedMap: "a mapping", CommentedSeq: "a list"}


class Checker:
    """Typed access to a YAML document that fails with the offending line."""

    def __init__(self, path: str) -> None:
        self.path = path

    def fail(self, line: int, reason: str) -> NoReturn:
        """Raise DefinitionError at ``line``."""
        raise DefinitionError(self.path, line, reason)

    def mapping(self, obj: Any, line: int, what: str) -> CommentedMap:
        """``obj`` must be a mapping."""
        if not isinstance(obj, CommentedMap):
            self.fail(line, f"{what} must be a mapping")
        return obj

    def known_keys(self, node: CommentedMap, allowed: Iterable[str], what: str) -> None:
        """Refuse keys outside ``allowed``, at the line of the unknown key."""
        allowed = tuple(allowed)
        for key in node:
            if key not in allowed:
                self.fail(key_line(node, key),
                          f"unknown key '{key}' in {what} (allowed: {', '.join(allowed)})")

    def get(self, node: CommentedMap, key: str, types: type | tuple[type, ...], *,
            required: bool = False, default: Any = None, why: str | None = None) -> Any:
        """``node[key]`` checked against ``types`` (bool is never taken for a number)."""
        value = node.get(key, _MISSING) if isinstance(node, CommentedMap) else _MISSING
        if value is _MISSING:
            if required:
                self.fail(node_line(node), why or f"missing '{key}'")
            return default
        wanted = types if isinstance(types, tuple) else (types,)
        is_bool_mixup = isinstance(value, bool) and bool not in wanted
        if not isinstance(value, wanted) or is_bool_mixup:
            names = " or ".join(_TYPE_NAMES.get(t, t.__name__) for t in wanted)
            self.fail(value_line(node, key), f"'{key}' must be {names}")
        if isinstance(value, str) and not value.strip():
            self.fail(value_line(node, key), f"'{key}' must not be empty")
        return value

    def text(self, node: CommentedMap, key: str, langs: tuple[str, ...], *,
             required: bool = False) -> dict[str, str]:
        """A {language: text} mapping with every listed language, fit to be spoken."""
        texts = self.get(node, key, CommentedMap, required=required, default=None)
        if texts is None:
            return {}
        for lang in texts:
            if lang not in langs:
                self.fail(key_line(texts, lang), f"'{key}' has language '{lang}', "
                          f"which is not in languages")
        for lang in langs:
            if lang not in texts:
                self.fail(key_line(node, key), f"'{key}' has no '{lang}' translation")
            self.get(texts, lang, str, required=True)
            value = texts[lang]
            if _UNSPEAKABLE.search(value) or any(w in value.lower() for w in _SCREEN_WORDS):
                self.fail(value_line(texts, lang), f"'{key}' ({lang}) must read aloud well: "
                          "no emoji, no 'click'")
        return {lang: str(texts[lang]).strip() for lang in langs}
