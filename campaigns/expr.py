"""A small, safe expression language for ``when``, ``derived`` and risk rules.

Allowed: names, str/int/float/bool/None constants, comparisons (incl. ``in`` a literal
list), ``and``/``or``/``not``, ``+ - *`` on numbers, and the calls ``count_yes(a, ...)``
(how many names are "yes" or true) and ``answered(a)``. Evaluation never raises: an
unanswered name is None, any comparison involving None is False, bad arithmetic is None.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from campaigns.errors import ExprError

__all__ = ["Expr", "compile_expr"]

_FUNCS = ("count_yes", "answered")
_CMP: dict[type, Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}
_ARITH: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
}


def _is_number(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _check(node: ast.AST, names: list[str]) -> None:
    """Refuse every node outside the whitelist; collect referenced names."""
    if isinstance(node, ast.Expression):
        _check(node.body, names)
    elif isinstance(node, ast.Name):
        if node.id in _FUNCS:
            raise ExprError(f"'{node.id}' is a function; call it")
        names.append(node.id)
    elif isinstance(node, ast.Constant):
        if node.value is not None and not isinstance(node.value, (str, int, float, bool)):
            raise ExprError(f"constant {node.value!r} is not allowed")
    elif isinstance(node, (ast.List, ast.Tuple)):
        for elt in node.elts:
            if not isinstance(elt, ast.Constant):
                raise ExprError("a list may hold only constants")
            _check(elt, names)
    elif isinstance(node, ast.Compare):
        for op in node.ops:
            if type(op) not in _CMP:
                raise ExprError(f"operator {type(op).__name__} is not allowed")
        for part in [node.left, *node.comparators]:
            _check(part, names)
    elif isinstance(node, ast.BoolOp):
        for value in node.values:
            _check(value, names)
    elif isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, (ast.Not, ast.USub)):
            raise ExprError(f"operator {type(node.op).__name__} is not allowed")
        _check(node.operand, names)
    elif isinstance(node, ast.BinOp):
        if type(node.op) not in _ARITH:
            raise ExprError(f"operator {type(node.op).__name__} is not allowed (only + - *)")
        _check(node.left, names)
        _check(node.right, names)
    elif isinstance(node, ast.Call):
        func = node.func
        if not isinstance(func, ast.Name) or func.id not in _FUNCS:
            raise ExprError("only count_yes(...) and answered(...) may be called")
        if node.keywords or not node.args:
            raise ExprError(f"{func.id}() takes one or more names")
        if func.id == "answered" and len(node.args) != 1:
            raise ExprError("answered() takes exactly one name")
        for arg in node.args:
            if not isinstance(arg, ast.Name):
                raise ExprError(f"{func.id}() takes names only")
            names.append(arg.id)
    else:
        raise ExprError(f"{type(node).__name__} is not allowed in an expression")


@dataclass(frozen=True)
class Expr:
    """A compiled expression; ``names`` are the names it refers to, in order."""

    source: str
    names: tuple[str, ...]
    _tree: ast.Expression = field(repr=False, compare=False)

    def evaluate(self, env: Mapping[str, Any]) -> Any:
        """Evaluate against answers + context; never raises."""
        return _eval(self._tree.body, env)

    def truth(self, env: Mapping[str, Any]) -> bool:
        """Evaluate as a condition (None and errors are False)."""
        return bool(self.evaluate(env))


def compile_expr(source: str) -> Expr:
    """Parse and check ``source``; raise ExprError when it is not allowed."""
    if not isinstance(source, str) or not source.strip():
        raise ExprError("an expression must be a non-empty string")
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExprError(f"syntax error in expression {source!r}: {exc.msg}") from None
    names: list[str] = []
    _check(tree, names)
    return Expr(source.strip(), tuple(dict.fromkeys(names)), tree)


def _compare(op: ast.cmpop, left: Any, right: Any) -> bool:
    if left is None or right is None:
        return False
    if isinstance(op, (ast.In, ast.NotIn)):
        if not isinstance(right, (list, tuple)):
            return False
    elif isinstance(op, (ast.Lt, ast.LtE, ast.Gt, ast.GtE)):
        both_num = _is_number(left) and _is_number(right)
        if not both_num and not (isinstance(left, str) and isinstance(right, str)):
            return False
    try:
        return bool(_CMP[type(op)](left, right))
    except TypeError:
        return False


def _eval(node: ast.AST, env: Mapping[str, Any]) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return env.get(node.id)
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_eval(e, env) for e in node.elts]
    if isinstance(node, ast.BoolOp):
        result: Any = None
        for value in node.values:
            result = _eval(value, env)
            if isinstance(node.op, ast.And) and not result:
                return result
            if isinstance(node.op, ast.Or) and result:
                return result
        return result
    if isinstance(node, ast.UnaryOp):
        operand = _eval(node.operand, env)
        if isinstance(node.op, ast.Not):
            return not operand
        return -operand if _is_number(operand) else None
    if isinstance(node, ast.BinOp):
        left, right = _eval(node.left, env), _eval(node.right, env)
        if not (_is_number(left) and _is_number(right)):
            return None
        return _ARITH[type(node.op)](left, right)
    if isinstance(node, ast.Compare):
        left = _eval(node.left, env)
        for op, comp in zip(node.ops, node.comparators, strict=True):
            right = _eval(comp, env)
            if not _compare(op, left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        values = [env.get(a.id) for a in node.args if isinstance(a, ast.Name)]
        if node.func.id == "count_yes":
            return sum(1 for v in values if v == "yes" or v is True)
        return values[0] is not None
    return None
