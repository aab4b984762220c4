"""Every questionnaire conversation test file, played through the real Rasa core and action server.

The same files run through the pure engine in tests/campaigns; here each reply goes through NLU, the rules,
the questionnaire form and the action server, and the outcome is read back from the resident database.
"""

from __future__ import annotations

from datetime import date

import pytest

from campaigns import CONVERSATION_TEST_DIR, QUESTIONNAIRE_DIR, load_conversation_tests, load_directory
from campaigns.conversation_tests import Conversation, Outcome, Reply, run_conversation
from campaigns.questionnaire import Questionnaire
from tests.dialogs.conftest import Stack

CONVERSATIONS = load_conversation_tests(CONVERSATION_TEST_DIR)
QUESTIONNAIRES = load_directory(QUESTIONNAIRE_DIR)


class RasaRespondent:
    """A resident talking to the Rasa stack; the outcome is what the database holds."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.sender = ""
        self.resident_id = 0
        self.metadata: dict[str, str] = {}
        self.count = 0

    def begin(self, q: Questionnaire, conv: Conversation) -> list[str]:
        today = conv.context.get("today") or date.today()
        age = conv.context.get("age", 40)
        self.sender = self.stack.fresh(f"{conv.id} ({id(self)})", conv.language, today.year - int(age))
        self.resident_id = self.stack.residents[f"{conv.id} ({id(self)})"]
        self.metadata = {"today": today.isoformat()}
        from gridreach_app.dialogue import start_message

        return self.stack.texts(self.sender, start_message(q.id), **self.metadata)

    def reply(self, reply: Reply) -> list[str]:
        self.count += 1
        meta = dict(self.metadata, message_id=f"{self.sender}-{self.count}")
        if reply.keypad:
            meta["keypad"] = True  # type: ignore[assignment]
        if reply.confidence < 1.0:
            meta["asr_confidence"] = reply.confidence  # type: ignore[assignment]
        return self.stack.texts(self.sender, reply.text, **meta)

    def outcome(self) -> Outcome:
        sub = self.stack.store.latest_submission(self.resident_id)
        if sub is None:
            return Outcome("in_progress", {}, None, False, False)
        answers = {key: a.value for key, a in sub.answers.items()}
        opted_out = self.stack.store.has_opted_out(self.resident_id, "test")
        return Outcome(sub.status, answers, sub.risk_level, opted_out, sub.status != "in_progress")


@pytest.mark.parametrize("conv", CONVERSATIONS, ids=[c.id for c in CONVERSATIONS])
def test_conversation_through_rasa(stack: Stack, conv: Conversation) -> None:
    result = run_conversation(QUESTIONNAIRES[conv.questionnaire], conv, RasaRespondent(stack))
    assert result.ok, result.report()


def test_every_questionnaire_has_rasa_conversations_in_chinese_and_english() -> None:
    covered = {(c.questionnaire, c.language) for c in CONVERSATIONS}
    for qid in QUESTIONNAIRES:
        assert (qid, "zh") in covered and (qid, "en") in covered, qid
