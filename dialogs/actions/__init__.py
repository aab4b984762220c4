"""GridReach custom actions, served by ``rasa run actions --actions dialogs.actions``."""

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
