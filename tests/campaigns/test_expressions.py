"""The safe expression language: what it allows, refuses, and how None behaves."""

from __future__ import annotations

from typing import Any

import pytest

from campaigns.errors import ExprError
from campaigns.expr import compile_expr


@pytest.mark.parametrize(("source", "env", "expected"), [
    ("temperature >= 37.3", {"temperature": 37.5}, True),
    ("temperature >= 37.3", {"temperature": 36.5}, False),
    ("temperature >= 37.3", {}, False),                       # unanswered is None: False
    ("temperature < 37.3", {"temperature": None}, False),     # both ways
    ("not temperature >= 37.3", {}, True),
    ("travel == \"yes\"", {"travel": "yes"}, True),
    ("travel != \"yes\"", {}, False),
    ("34 <= t < 38", {"t": 36}, True),
    ("34 <= t < 38", {"t": 38}, False),
    ("count_yes(a, b, c)", {"a": "yes", "b": True, "c": "no"}, 2),
    ("count_yes(a, b)", {}, 0),
    ("answered(a)", {"a": "no"}, True),
    ("answered(a)", {}, False),
    ("a + b * 2", {"a": 1, "b": 3}, 7),
    ("a - b", {"a": 1}, None),                               # arithmetic with None is None
    ("a + 1 > 2", {"a": "yes"}, False),                       # never raises on bad types
    ("a > 2", {"a": "yes"}, False),
    ("n == 2 and (x or age > 65)", {"n": 2, "x": False, "age": 70}, True),
    ("n == 2 and (x or age > 65)", {"n": 2, "x": False}, False),
    ("mode in [\"train\", \"flight\"]", {"mode": "train"}, True),
    ("mode not in [\"train\", \"flight\"]", {"mode": "car"}, True),
    ("mode in [\"train\"]", {}, False),
    ("-t < 0", {"t": 3}, True),
])
def test_evaluate(source: str, env: dict[str, Any], expected: Any) -> None:
    assert compile_expr(source).evaluate(env) == expected


def test_names_are_listed_in_order_without_repeats() -> None:
    expr = compile_expr("count_yes(fever, cough) >= 2 or fever and answered(contact)")
    assert expr.names == ("fever", "cough", "contact")


@pytest.mark.parametrize("source", [
    "__import__('os')", "a.b", "a[0]", "lambda: 1", "a / 2", "a ** 2", "open(a)",
    "count_yes('a')", "answered(a, b)", "count_yes", "[x for x in a]", "a if b else c",
    "a >= ", "", "f'{a}'", "a is None", "(a := 1)",
])
def test_refused(source: str) -> None:
    with pytest.raises(ExprError):
        compile_expr(source)


def test_truth_of_none_is_false() -> None:
    assert compile_expr("a").truth({}) is False
    assert compile_expr("a").truth({"a": "yes"}) is True
