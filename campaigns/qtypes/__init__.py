"""Question types, one module each, looked up by name: ``register(qtype)``, ``get(name)``, ``require(name)``.

The built-in types (yes_no, yes_no_unsure, number, choice, date, place, text, and the confirmation step ``confirm``)
register themselves when first looked up. A new type is one module defining a ``QuestionType`` subclass and calling
``register`` on import; the engine, the loader, the chat channels, the keypad and the voice grammar ask the registry.
"""

from __future__ import annotations

import importlib

from campaigns.qtypes.base import Option, QuestionType, Words

__all__ = ["Option", "QuestionType", "Words", "get", "names", "offered", "register", "require", "single_key",
           "unregister"]

_BUILTIN = ("yes_no", "yes_no_unsure", "number", "choice", "date", "place", "text", "confirm")
_TYPES: dict[str, QuestionType] = {}
_loaded: list[bool] = []


def _builtins() -> None:
    if not _loaded:
        _loaded.append(True)
        for name in _BUILTIN:
            importlib.import_module(f"campaigns.qtypes.{name}")


def register(qtype: QuestionType, *, replace: bool = False) -> QuestionType:
    """Add ``qtype`` under its ``name``; registering another type under a taken name is an error."""
    _builtins()
    if not qtype.name:
        raise ValueError("a question type needs a name")
    if qtype.name in _TYPES and not replace and type(_TYPES[qtype.name]) is not type(qtype):
        raise ValueError(f"question type '{qtype.name}' is already registered")
    _TYPES[qtype.name] = qtype
    return qtype


def unregister(name: str) -> None:
    """Remove a registered type (tests)."""
    _TYPES.pop(name, None)


def get(name: str) -> QuestionType | None:
    """The type registered as ``name``, or None."""
    _builtins()
    return _TYPES.get(name)


def require(name: str) -> QuestionType:
    """The type registered as ``name``; KeyError names the known ones."""
    found = get(name)
    if found is None:
        raise KeyError(f"unknown question type '{name}' (known: {', '.join(names())})")
    return found


def names(*, asked_only: bool = True) -> tuple[str, ...]:
    """The registered types a question can have (with ``asked_only=False`` also steps such as ``confirm``)."""
    _builtins()
    return tuple(n for n, t in _TYPES.items() if t.asked or not asked_only)


def single_key(name: str) -> bool:
    """One key press answers a question of this type (unknown types: keys are collected up to ``#``)."""
    found = get(name)
    return found is not None and found.single_key


def offered(expect: object) -> tuple[Option, ...]:
    """The options a chat channel shows for ``expect`` (an ``Expect``); an unknown type offers its keyed options."""
    from campaigns.expect import Expect

    if not isinstance(expect, Expect):
        return ()
    found = get(expect.type)
    return found.offer(expect) if found is not None else tuple(o for o in expect.options if o.keypad)
