"""A fake Telegram Bot API server on 127.0.0.1, written from https://core.telegram.org/bots/api.

It speaks the Bot API: ``POST``/``GET`` ``/bot<token>/<method>`` with parameters in the query string,
``application/x-www-form-urlencoded`` (values of object type JSON-encoded, as the documentation says),
or a JSON body; every answer is ``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code", "description",
"parameters"?}``. Methods: getMe, sendMessage, editMessageText, editMessageReplyMarkup, answerCallbackQuery,
getUpdates (long poll, offset confirms), setWebhook (then updates are POSTed to it with
``X-Telegram-Bot-Api-Secret-Token``), deleteWebhook, getWebhookInfo, getChat.

The documented limits are enforced (defaults are the real ones, tests may shrink them): more than 1 message/s
to one chat, 20/min to one group or 30/s overall answer 429 with ``parameters.retry_after``. Sending to a user who
blocked the bot or to a group the bot left answers 403; to a migrated group 400 with ``migrate_to_chat_id``.

Tests play the users: ``private_text``, ``group_text``, ``share_contact``, ``press``, ``edit``, ``sticker``,
``photo``, ``block_bot``, ``remove_bot``, ``migrate_group``; each builds an Update and delivers it (to the webhook,
or to the getUpdates queue). It imports nothing from ``bots`` on purpose.
"""

from gridreach_fakes.telegram.fake import FakeTelegram
from gridreach_fakes.telegram.wire import Window

__all__ = ["FakeTelegram", "Window"]
