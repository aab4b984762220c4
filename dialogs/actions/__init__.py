"""GridReach custom actions, served by ``python -m dialogs.actions.serve`` (token-checked, 127.0.0.1 by default)."""

from dialogs.actions.interrupts import ActionHandoff, ActionOptOut, ActionRespond
from dialogs.actions.questionnaire import (
    ActionAskAnswer,
    ActionStartQuestionnaire,
    ActionSubmitQuestionnaire,
    ValidateQuestionnaireForm,
)

__all__ = [
    "ActionAskAnswer",
    "ActionHandoff",
    "ActionOptOut",
    "ActionRespond",
    "ActionStartQuestionnaire",
    "ActionSubmitQuestionnaire",
    "ValidateQuestionnaireForm",
]
