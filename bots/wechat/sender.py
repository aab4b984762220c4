"""Customer-service messages: queued in the outbox, sent within WeChat's 48 h window and its message limit.

Each message reserves one slot (``Store.reserve_service_message``) right before it is sent; outside the window or
over the limit it is not sent, the row is marked failed and the audit log says so (never silently). WeChat's own
refusals (45015 window, 45047 limit, any other errcode) end the same way; a network failure or a rate limit (45009)
is retried later. The loop is the shared ``bots.outbox.Outbox``; the database is called off the event loop (it
serves the webhook, whose replies are due within 5 s).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from bots.outbox import Outbox, OutboxReport
from bots.wechat.config import OfficialAccountSettings
from bots.wechat.ports import CustomerService
from gridreach.store import Store
from gridreach.views import OutboundView

__all__ = ["CHANNEL", "ServiceSender"]

CHANNEL = "wechat"
log = logging.getLogger(__name__)


class ServiceSender:
    """Sends the queued customer-service messages of the Official Account."""

    def __init__(self, store: Store, api: CustomerService, settings: OfficialAccountSettings,
                 retry_after: timedelta = timedelta(seconds=30)) -> None:
        self.store = store
        self.api = api
        self.settings = settings
        self.retry_after = retry_after
        self.outbox = Outbox(store, CHANNEL, self._send, check=self._reserve, on_failed=self._audit,
                             backoff=retry_after.total_seconds(), backoff_factor=1.0)

    def enqueue(self, openid: str, text: str, dedupe_key: str) -> int | None:
        """Queue one text for ``openid``; None when ``dedupe_key`` was queued before (nothing is sent twice)."""
        return self.store.enqueue_outbound(CHANNEL, openid, {"text": text}, dedupe_key, kind="service")

    async def drain(self) -> OutboxReport:
        """Send every due message (each user's in the order queued)."""
        return await self.outbox.drain()

    def _reserve(self, row: OutboundView) -> str | None:
        """Take one slot of the user's window (blocking: called in a worker thread); why not, when there is none."""
        if not self.store.reserve_service_message(CHANNEL, row.target, self.settings.service_window,
                                                  self.settings.service_limit):
            return "outside the 48 h window or over the message limit"
        return None

    async def _send(self, row: OutboundView) -> None:
        await self.api.send_text(row.target, str(row.payload.get("text") or ""))

    def _audit(self, row: OutboundView, why: str) -> None:
        self.store.audit("system", "wechat.service_message_dropped", "wechat_user", row.target,
                         {"outbound_id": row.id, "reason": why})
