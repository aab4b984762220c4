"""The message that starts a questionnaire for a resident, shared by every channel.

It is a Rasa intent trigger (``/intent{entities}``): it bypasses the NLU, so a channel can start a questionnaire for
a person without guessing words. The dialogue's ``action_start_questionnaire`` reads the two entities.
"""

from __future__ import annotations

import json

__all__ = ["start_message"]


def start_message(questionnaire_id: str, campaign_id: int | None = None) -> str:
    """``/start_questionnaire{"questionnaire": "daily_health", "campaign": "3"}``."""
    entities: dict[str, str] = {"questionnaire": questionnaire_id}
    if campaign_id is not None:
        entities["campaign"] = str(campaign_id)
    return "/start_questionnaire" + json.dumps(entities, ensure_ascii=False)
