"""Load questionnaire YAML with ruamel.yaml so that every error names ``path:line``."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from campaigns import _yamlcheck as chk
from campaigns import qtypes
from campaigns.errors import DefinitionError, ExprError
from campaigns.expr import Expr, compile_expr
from campaigns.questionnaire import (
    CONTEXT_NAMES,
    LANGUAGES,
    RISK_LEVELS,
    UNITS,
    Choice,
    Question,
    Questionnaire,
    RiskRule,
)

__all__ = ["load_directory", "load_questionnaire", "parse_questionnaire", "read_yaml"]

_TOP = ("id", "version", "title", "languages", "questions", "intro", "derived", "risk", "closing")
_COMMON = ("key", "type", "prompt", "reprompt", "required", "when", "max_tries", "confirm_below")
_BY_TYPE = {"number": ("unit", "min", "max", "decimals", "allow_unknown"), "choice": ("choices",),
            "place": ("detail",)}
_IDENT = re.compile(r"^[a-z][a-z0-9_]*$")


def read_yaml(path: str, text: str) -> Any:
    """Round-trip load (line numbers kept); YAML errors become DefinitionError."""
    try:
        return YAML(typ="rt").load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise DefinitionError(path, line, f"YAML error: {exc.problem or exc}") from None


def load_questionnaire(path: str | Path) -> Questionnaire:
    """Load and check one questionnaire file."""
    return parse_questionnaire(Path(path).read_text(encoding="utf-8"), str(path))


def load_directory(directory: str | Path) -> dict[str, Questionnaire]:
    """Every ``*.yml`` in ``directory`` by id; two files with the same id are refused."""
    found: dict[str, Questionnaire] = {}
    for path in sorted(Path(directory).glob("*.yml")):
        q = load_questionnaire(path)
        if q.id in found:
            doc = read_yaml(str(path), path.read_text(encoding="utf-8"))
            raise DefinitionError(str(path), chk.value_line(doc, "id"),
                                  f"duplicate questionnaire id '{q.id}' (also in {found[q.id].source})")
        found[q.id] = q
    return found


def parse_questionnaire(text: str, path: str = "<string>") -> Questionnaire:
    """Parse and check questionnaire YAML ``text``; ``path`` is used in error messages."""
    doc = read_yaml(path, text)
    c = chk.Checker(path)
    top = c.mapping(doc, 1, "a questionnaire")
    c.known_keys(top, _TOP, "questionnaire")
    qid = c.get(top, "id", str, required=True)
    if not _IDENT.match(qid):
        c.fail(chk.value_line(top, "id"), f"id '{qid}' must be lower_snake_case")
    version = c.get(top, "version", int, required=True)
    langs = _languages(c, top)
    seq = c.get(top, "questions", CommentedSeq, required=True)
    if not seq:
        c.fail(chk.value_line(top, "questions"), "a questionnaire needs at least one question")
    questions: list[Question] = []
    all_keys = [item.get("key") for item in seq if isinstance(item, CommentedMap)]
    for i, item in enumerate(seq):
        questions.append(_question(c, seq, i, item, langs, [q.key for q in questions], all_keys))
    keys = [q.key for q in questions]
    derived = _derived(c, top, keys)
    rules, default = _risk(c, top, keys + [name for name, _ in derived])
    reachable = {r.level for r in rules} | {default}
    return Questionnaire(
        id=qid, version=version, title=c.text(top, "title", langs, required=True),
        languages=langs, questions=tuple(questions), derived=tuple(derived),
        risk=tuple(rules), default_risk=default, closing=_closing(c, top, langs, reachable),
        intro=c.text(top, "intro", langs), source=path,
    )


def _languages(c: chk.Checker, top: CommentedMap) -> tuple[str, ...]:
    seq = c.get(top, "languages", CommentedSeq, required=True)
    line = chk.value_line(top, "languages")
    for lang in seq:
        if lang not in LANGUAGES:
            c.fail(line, f"unknown language '{lang}' (known: {', '.join(LANGUAGES)})")
    if not seq or len(set(seq)) != len(seq):
        c.fail(line, "languages must be a non-empty list without repeats")
    return tuple(seq)


def _expr(c: chk.Checker, node: CommentedMap, key: str, what: str) -> Expr:
    source = c.get(node, key, str, required=True)
    try:
        return compile_expr(source)
    except ExprError as exc:
        c.fail(chk.value_line(node, key), f"{what}: {exc}")


def _refs(c: chk.Checker, node: CommentedMap, key: str, expr: Expr, what: str,
          allowed: Iterable[str], later: Iterable[str] = (), later_how: str = "is asked later") -> None:
    allowed, later = set(allowed) | set(CONTEXT_NAMES), set(later)
    for name in expr.names:
        if name in allowed:
            continue
        if name in later:
            c.fail(chk.value_line(node, key), f"{what} refers to '{name}', which {later_how}")
        c.fail(chk.value_line(node, key), f"{what} refers to unknown name '{name}'")


def _question(c: chk.Checker, seq: CommentedSeq, i: int, item: Any, langs: tuple[str, ...],
              earlier: list[str], all_keys: list[Any]) -> Question:
    node = c.mapping(item, chk.item_line(seq, i), f"question {i + 1}")
    key = c.get(node, "key", str, required=True)
    if not _IDENT.match(key) or key in CONTEXT_NAMES:
        c.fail(chk.value_line(node, "key"), f"question key '{key}' must be lower_snake_case "
               f"and not one of {', '.join(CONTEXT_NAMES)}")
    if key in earlier:
        c.fail(chk.value_line(node, "key"), f"duplicate question key '{key}'")
    qtype = c.get(node, "type", str, required=True)
    if qtype not in qtypes.names():
        c.fail(chk.value_line(node, "type"),
               f"unknown question type '{qtype}' (known: {', '.join(qtypes.names())})")
    c.known_keys(node, _COMMON + _BY_TYPE.get(qtype, ()), f"a {qtype} question")
    when = None
    if "when" in node:
        when = _expr(c, node, "when", f"'when' of '{key}'")
        _refs(c, node, "when", when, f"'when' of '{key}'", earlier, all_keys[i:])
    max_tries = c.get(node, "max_tries", int, default=2)
    if max_tries < 1:
        c.fail(chk.value_line(node, "max_tries"), "max_tries must be at least 1")
    confirm = float(c.get(node, "confirm_below", (int, float), default=0.6))
    if not 0 <= confirm <= 1:
        c.fail(chk.value_line(node, "confirm_below"), "confirm_below must be between 0 and 1")
    extra: dict[str, Any] = {}
    if qtype == "number":
        extra = _number(c, node)
    if qtype == "number":
        extra["allow_unknown"] = c.get(node, "allow_unknown", bool, default=False)
    if qtype == "place":
        extra["detail"] = c.get(node, "detail", str, default="city")
        if extra["detail"] not in ("city", "address"):
            c.fail(chk.value_line(node, "detail"), "detail must be 'city' or 'address'")
    elif qtype == "choice":
        extra = {"choices": _choices(c, node, langs)}
    return Question(
        key=key, type=qtype, prompt=c.text(node, "prompt", langs, required=True),
        reprompt=c.text(node, "reprompt", langs), required=c.get(node, "required", bool, default=True),
        when=when, max_tries=max_tries, confirm_below=confirm, **extra,
    )


def _number(c: chk.Checker, node: CommentedMap) -> dict[str, Any]:
    unit = c.get(node, "unit", str, default="count")
    if unit not in UNITS:
        c.fail(chk.value_line(node, "unit"), f"unknown unit '{unit}' (known: {', '.join(UNITS)})")
    low = c.get(node, "min", (int, float), required=True, why="a number question needs min and max")
    high = c.get(node, "max", (int, float), required=True, why="a number question needs min and max")
    if low >= high:
        c.fail(chk.value_line(node, "max"), "max must be greater than min")
    decimals = c.get(node, "decimals", int, default=1)
    if not 0 <= decimals <= 6:
        c.fail(chk.value_line(node, "decimals"), "decimals must be between 0 and 6")
    return {"unit": unit, "min": float(low), "max": float(high), "decimals": decimals}


def _choices(c: chk.Checker, node: CommentedMap, langs: tuple[str, ...]) -> tuple[Choice, ...]:
    seq = c.get(node, "choices", CommentedSeq, required=True)
    if len(seq) < 2:
        c.fail(chk.value_line(node, "choices"), "a choice question needs at least two choices")
    result: list[Choice] = []
    for i, item in enumerate(seq):
        opt = c.mapping(item, chk.item_line(seq, i), f"choice {i + 1}")
        c.known_keys(opt, ("key", "label", "synonyms"), "a choice")
        key = c.get(opt, "key", str, required=True)
        if not _IDENT.match(key) or key in [r.key for r in result]:
            c.fail(chk.value_line(opt, "key"), f"choice key '{key}' must be lower_snake_case and unique")
        result.append(Choice(key, c.text(opt, "label", langs, required=True), _synonyms(c, opt, langs)))
    return tuple(result)


def _synonyms(c: chk.Checker, opt: CommentedMap, langs: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    node = c.get(opt, "synonyms", CommentedMap, default=None)
    if node is None:
        return {}
    out: dict[str, tuple[str, ...]] = {}
    for lang in node:
        if lang not in langs:
            c.fail(chk.key_line(node, lang), f"language '{lang}' is not in languages")
        words = node[lang]
        if not isinstance(words, list) or not all(isinstance(w, str) and w.strip() for w in words):
            c.fail(chk.value_line(node, lang), "synonyms must be a list of words")
        out[lang] = tuple(words)
    return out


def _derived(c: chk.Checker, top: CommentedMap, keys: list[str]) -> list[tuple[str, Expr]]:
    node = c.get(top, "derived", CommentedMap, default=None)
    out: list[tuple[str, Expr]] = []
    for name in node or ():
        if not isinstance(name, str) or not _IDENT.match(name) or name in keys or name in CONTEXT_NAMES:
            c.fail(chk.key_line(node, name), f"derived name '{name}' must be new and lower_snake_case")
        expr = _expr(c, node, name, f"derived '{name}'")
        _refs(c, node, name, expr, f"derived '{name}'", keys + [n for n, _ in out],
              [n for n in node if n != name], "is defined later")
        out.append((name, expr))
    return out


def _risk(c: chk.Checker, top: CommentedMap, names: list[str]) -> tuple[list[RiskRule], str]:
    node = c.get(top, "risk", CommentedMap, default=None)
    if node is None:
        return [], "low"
    c.known_keys(node, ("rules", "default"), "risk")
    default = c.get(node, "default", str, default="low")
    if default not in RISK_LEVELS:
        c.fail(chk.value_line(node, "default"), f"unknown risk level '{default}'")
    rules: list[RiskRule] = []
    seq = c.get(node, "rules", CommentedSeq, default=[])
    for i, item in enumerate(seq):
        rule = c.mapping(item, chk.item_line(seq, i), f"risk rule {i + 1}")
        c.known_keys(rule, ("level", "when"), "a risk rule")
        level = c.get(rule, "level", str, required=True)
        if level not in RISK_LEVELS:
            c.fail(chk.value_line(rule, "level"), f"unknown risk level '{level}' "
                   f"(known: {', '.join(RISK_LEVELS)})")
        expr = _expr(c, rule, "when", f"risk rule {i + 1}")
        _refs(c, rule, "when", expr, f"risk rule {i + 1}", names)
        rules.append(RiskRule(level, expr))
    return rules, default


def _closing(c: chk.Checker, top: CommentedMap, langs: tuple[str, ...],
             reachable: set[str]) -> dict[str, dict[str, str]]:
    node = c.get(top, "closing", CommentedMap, required=True)
    for level in node:
        if level not in RISK_LEVELS:
            c.fail(chk.key_line(node, level), f"unknown risk level '{level}' in closing")
    for level in sorted(reachable - set(node)):
        c.fail(chk.key_line(top, "closing"), f"closing has no message for risk level '{level}'")
    return {level: c.text(node, level, langs, required=True) for level in node}
