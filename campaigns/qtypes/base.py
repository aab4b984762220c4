"""What every question type defines (``QuestionType``), the offered ``Option`` and the ``Words`` a grammar is made of.

A type says how an answer is read (delegating to the readers of ``campaigns``), how it is asked again, how it is said
back, which options a channel offers (with keypad digits), whether one key answers it, and what a voice recogniser
listens for. Word lists themselves are the voice caller's: a type names what it wants through ``Words``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from campaigns.phrases import phrase
from campaigns.questionnaire import Question

if TYPE_CHECKING:
    from campaigns.answers import NluHints, Result
    from campaigns.expect import Expect

__all__ = ["Option", "QuestionType", "Words"]


@dataclass(frozen=True)
class Option:
    """One offered answer: the value stored, its label in the asked language, the key that gives it."""

    value: str
    label: str
    keypad: str


class Words(Protocol):
    """The phrases a voice recogniser can be given, in one language (built by the voice caller)."""

    @property
    def language(self) -> str:
        """The language of the phrases."""

    def yes_no(self, *, unsure: bool) -> list[str]:
        """Yes / no (/ not sure) phrases read back the same way by the chat readers."""

    def numbers(self, low: float | None, high: float | None, unit: str | None) -> list[str]:
        """Numbers from ``low`` to ``high`` as said (numeral words when the range is open or huge)."""

    def said(self, phrases: Iterable[str]) -> list[str]:
        """Literal phrases (labels, synonyms) in the forms the models know."""


class QuestionType(ABC):
    """One question type; subclasses set ``name`` and override what differs. Registered with ``qtypes.register``."""

    name: ClassVar[str] = ""
    #: A questionnaire's question can have this type (False for a step such as the confirmation).
    asked: ClassVar[bool] = True
    #: One key press answers it on the phone (else keys are collected up to ``#``).
    single_key: ClassVar[bool] = False
    #: Its answers are yes / no words: during a confirmation they confirm, they are not a fresh answer.
    yes_no_words: ClassVar[bool] = False
    #: A free answer in words: an NLU's interruption guess is doubted (see ``campaigns.runner``).
    free_text: ClassVar[bool] = False
    #: An interruption keyword this type reads as an answer (a choice labelled "a person") is the answer.
    answers_before_interrupts: ClassVar[bool] = False
    #: The question's min / max / unit travel in its ``Expect``.
    ranged: ClassVar[bool] = False
    #: The default reprompt per language, in code: for a type kept outside the catalogue (a plug-in, a test). Empty
    #: (the built-in types): the catalogue's ``qtypes.<name>.reprompt`` (``campaigns/phrases.yml``).
    reprompts: ClassVar[Mapping[str, str]] = {}

    @abstractmethod
    def interpret(self, question: Question, raw: str, language: str, hints: NluHints, today: date,
                  keypad: bool) -> Result:
        """Read ``raw`` (not empty) as an answer to ``question``: typed, spoken, or keyed when ``keypad``."""

    def symbol_answers(self, question: Question, raw: str) -> bool:
        """``raw`` has no letters or digits yet is an answer (an emoji the definition lists): not "empty"."""
        return False

    def reprompt(self, question: Question, lang: str) -> str:
        """The default reprompt (the question's own ``reprompt`` comes first, in ``campaigns.messages``)."""
        return self.reprompt_text(lang)

    def reprompt_text(self, lang: str, **fields: Any) -> str:
        """The type's reprompt wording with ``fields`` filled: its ``reprompts`` if set, else the catalogue's."""
        if self.reprompts:
            return self.reprompts[lang].format(**fields)
        return phrase(f"qtypes.{self.name}.reprompt", lang, **fields)

    def render(self, question: Question, value: Any, lang: str) -> str:
        """A stored value as the resident would say it back."""
        return str(value)

    def options(self, question: Question, lang: str) -> list[Option]:
        """The answers offered with the question, each with its keypad digit (none for free answers)."""
        return []

    def confirmable(self, question: Question, limit: int) -> list[Any]:
        """The values an answer can take, known in advance (for pre-made confirmations); [] if more than ``limit``."""
        return []

    def offer(self, expect: Expect) -> tuple[Option, ...]:
        """What a chat channel shows as buttons or numbered choices: the options that have a key."""
        return tuple(o for o in expect.options if o.keypad)

    def listen(self, expect: Expect, words: Words) -> list[str] | None:
        """The answers a recogniser listens for (interruptions are added by the caller); None: free speech."""
        return None
