"""Queue notices and screening posts for every bound Telegram group of a grid (the outbox sends them, paced).

Usable without a running bot (the CLI): the bot's sender loop, or ``Sender.drain()``, sends what is queued.
Each (notice or campaign, group) pair is queued once, whatever happens: nothing is sent twice.
"""

from __future__ import annotations

from typing import Any

from campaigns.phrases import both, phrase
from gridreach.store import Store

__all__ = ["enqueue_notice", "enqueue_screening", "notice_payload", "screening_payload"]

CHANNEL = "telegram"


def notice_payload(notice_id: int, body: str) -> dict[str, Any]:
    button = {"text": both("telegram.received_button", sep=" / "), "callback_data": f"n:{notice_id}"}
    return {"text": f"📢 {both('telegram.notice_title', sep=' / ')}\n\n{body}", "markup": {"inline_keyboard": [[button]]}}


def screening_payload(token: str, bot_username: str, title: str, language: str = "zh") -> dict[str, Any]:
    button = {"text": both("telegram.start_button", sep=" / "), "url": f"https://t.me/{bot_username}?start={token}"}
    return {"text": phrase("telegram.screen_post", language, title=title), "markup": {"inline_keyboard": [[button]]}}


def enqueue_notice(store: Store, notice_id: int, grid_code: str, body: str) -> list[str]:
    """Queue the notice for each active Telegram group of the grid; the chat ids queued (now or before)."""
    payload = notice_payload(notice_id, body)
    groups = store.groups_for_grid(grid_code, CHANNEL)
    for group in groups:
        store.enqueue_outbound(CHANNEL, group.external_id, payload, f"notice:{notice_id}:{group.external_id}",
                               kind="notice")
    return [g.external_id for g in groups]


def enqueue_screening(store: Store, campaign_id: int, grid_code: str, title: str, bot_username: str,
                      language: str = "zh") -> list[str]:
    """Post the campaign's deep-link button to each active Telegram group of the grid; the chat ids queued."""
    payload = screening_payload(store.campaign_token(campaign_id), bot_username, title, language)
    groups = store.groups_for_grid(grid_code, CHANNEL)
    for group in groups:
        store.enqueue_outbound(CHANNEL, group.external_id, payload, f"screen:{campaign_id}:{group.external_id}",
                               kind="screening")
    return [g.external_id for g in groups]
