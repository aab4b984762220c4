"""Questionnaires as data, their loader, answer validators, normalisers and the pure engine."""

from __future__ import annotations

from pathlib import Path

from campaigns.answers import Accepted, NluHints, Rejected, interpret
from campaigns.conversation_tests import (
    Conversation,
    EngineRespondent,
    load_conversation_tests,
    run_conversation,
)
from campaigns.engine import AnswerRecord, RunState, Step, abandon, answer, assess, no_input, repeat, start
from campaigns.errors import DefinitionError
from campaigns.expr import Expr, compile_expr
from campaigns.interrupts import detect_interrupt
from campaigns.loader import load_directory, load_questionnaire, parse_questionnaire
from campaigns.normalize import (
    detect_language,
    parse_date,
    parse_number,
    parse_temperature,
    parse_transport_no,
    parse_yes_no,
)
from campaigns.questionnaire import Choice, Question, Questionnaire, RiskRule
from campaigns.runner import Turn, take_turn
from campaigns.triggers import start_message

#: The questionnaires shipped with GridReach.
QUESTIONNAIRE_DIR = Path(__file__).parent / "questionnaires"
#: Their conversation tests.
CONVERSATION_TEST_DIR = QUESTIONNAIRE_DIR / "tests"

__all__ = [
    "CONVERSATION_TEST_DIR",
    "QUESTIONNAIRE_DIR",
    "Accepted",
    "AnswerRecord",
    "Choice",
    "Conversation",
    "DefinitionError",
    "EngineRespondent",
    "Expr",
    "NluHints",
    "Question",
    "Questionnaire",
    "Rejected",
    "RiskRule",
    "RunState",
    "Step",
    "Turn",
    "abandon",
    "answer",
    "assess",
    "compile_expr",
    "detect_interrupt",
    "detect_language",
    "interpret",
    "load_conversation_tests",
    "load_directory",
    "load_questionnaire",
    "no_input",
    "parse_date",
    "parse_number",
    "parse_questionnaire",
    "parse_temperature",
    "parse_transport_no",
    "parse_yes_no",
    "repeat",
    "run_conversation",
    "start",
    "start_message",
    "take_turn",
]
