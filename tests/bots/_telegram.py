"""A small scripted dialogue for the Telegram connector tests that are about the channel, not the questionnaire.

It is a real implementation of the dialogue port (the full questionnaire runs through the real Rasa core in
test_telegram_screening.py): two questions, yes/no (buttons) and a temperature (typed), answers kept per sender.
"""

from __future__ import annotations

from typing import Any

from gridreach.dialogue import Reply

YES_NO = [{"value": "yes", "label": "有", "keypad": "1"}, {"value": "no", "label": "没有", "keypad": "2"}]


def _expect(key: str, options: list[dict[str, str]], prompt: str) -> Reply:
    return Reply(custom={"expect": {"questionnaire": "script", "question": key, "type": "yes_no" if options
                                          else "number", "language": "zh", "options": options, "min": None,
                                          "max": None, "unit": None, "prompt": prompt}})


class ScriptedDialogue:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        self.answers: dict[str, dict[str, str]] = {}
        self.at: dict[str, str | None] = {}

    async def handle(self, sender_id: str, text: str, channel: str,
                     metadata: dict[str, Any] | None = None) -> list[Reply]:
        self.calls.append((sender_id, text, dict(metadata or {})))
        if text.startswith("/start_questionnaire"):
            self.at[sender_id], self.answers[sender_id] = "cough", {}
            return [Reply("开始排查"), Reply("您有没有咳嗽？"), _expect("cough", YES_NO, "您有没有咳嗽？")]
        at = self.at.get(sender_id)
        if at == "cough":
            value = {"1": "yes", "2": "no"}.get(text) if (metadata or {}).get("keypad") else \
                {"有": "yes", "没有": "no"}.get(text)
            if value is None:
                return [Reply("请回答有或者没有。"), _expect("cough", YES_NO, "您有没有咳嗽？")]
            self.answers[sender_id]["cough"], self.at[sender_id] = value, "temperature"
            return [Reply("体温多少度？"), _expect("temperature", [], "体温多少度？")]
        if at == "temperature":
            self.answers[sender_id]["temperature"], self.at[sender_id] = text, None
            return [Reply("谢谢。"),
                    Reply(custom={"handoff": {"phone": "+8613800138000", "name": "王网格"}})]
        return [Reply("目前没有需要您回答的问题。")]
