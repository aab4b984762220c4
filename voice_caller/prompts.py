"""Every text a questionnaire run can say that is known before the call, so it can be synthesised ahead.

``fixed_prompts(q, language)`` follows what ``campaigns.engine`` and ``campaigns.runner`` say, built with the same
functions they use (so the strings are identical): the intro, each question's prompt and reprompt, the answers to
a rejected reply (``messages.reason_text`` for every reason), the skip and goodbye texts, the closing of each
risk level, confirmations of values from a finite set (yes / no / not sure, a choice, a number in a range of at
most ``MAX_CONFIRM_VALUES`` values, e.g. a temperature 34.0-43.0) — the catalogue's ``engine.*``, ``units.*`` and
``qtypes.*`` texts, filled in — and the top-level phrases of the catalogue (``campaigns/phrases.yml``,
``spoken_phrases``) rendered as the runner renders them, with fields left empty, and again with ``fields``
(``community``, ``grid_worker``) when the caller knows them for the grid.

What stays dynamic: a notice's text, confirmations of dates and of numbers from large ranges, and anything the
dialogue adds from outside the questionnaire.
"""

from __future__ import annotations

from collections.abc import Mapping

from campaigns import messages, qtypes
from campaigns.answers import REASONS
from campaigns.phrases import phrase, spoken_phrases
from campaigns.questionnaire import Question, Questionnaire

__all__ = ["MAX_CONFIRM_VALUES", "fixed_prompts"]

MAX_CONFIRM_VALUES = 200


def _confirmable(question: Question) -> list[object]:
    """The values the question's type knows in advance (none for free answers, nor for a huge range)."""
    return list(qtypes.require(question.type).confirmable(question, MAX_CONFIRM_VALUES))


def _question_texts(question: Question, language: str) -> list[str]:
    texts = [question.prompt[language], messages.reprompt_text(question, language)]
    texts += [messages.reason_text(question, reason, language) for reason in REASONS]
    texts += [messages.confirm_text(question, value, language) for value in _confirmable(question)]
    return texts


def fixed_prompts(q: Questionnaire, language: str, *, fields: Mapping[str, str] | None = None) -> list[str]:
    """The texts ``q`` can say in ``language`` that are known in advance, in order, without repeats.

    A language the questionnaire lacks falls back as ``engine.start`` does (to zh, else its first language).
    """
    if language not in q.languages:
        language = "zh" if "zh" in q.languages else q.languages[0]
    texts: list[str] = []
    if q.intro:
        texts.append(q.intro[language])
    for question in q.questions:
        texts += _question_texts(question, language)
    texts += [messages.skip_text(language), messages.goodbye_text(language)]
    texts += [closing[language] for closing in q.closing.values() if language in closing]
    for key in spoken_phrases():
        texts.append(phrase(key, language))
        if fields:
            texts.append(phrase(key, language, **fields))
    return list(dict.fromkeys(t for t in texts if t and t.strip()))
