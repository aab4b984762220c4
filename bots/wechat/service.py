"""Customer-service messages: queued in the outbox, sent within WeChat's 48 h window and its message limit.

Each message reserves one slot (``Store.reserve_service_message``) right before it is sent; outside the window or
over the limit it is not sent, the row is marked failed and the audit log says so (never silently). WeChat's own
refusals (45015 window, 45047 limit) end the same way; a network failure or a rate limit is retried later.
The database is called off the event loop (it serves the webhook, whose replies are due within 5 s).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from bots.wechat.config import OfficialAccountSettings
from bots.wechat.errors import RateLimited, SendFailed, SendRefused, ServiceLimitReached, ServiceWindowClosed
from bots.wechat.ports import CustomerService
from gridreach.store import Store
from gridreach.views import OutboundView

__all__ = ["CHANNEL", "ServiceSender"]

CHANNEL = "wechat"
log = logging.getLogger(__name__)


@dataclass
class DrainReport:
    sent: int = 0
    dropped: int = 0
    retried: int = 0


class ServiceSender:
    """Sends the queued customer-service messages of the Official Account."""

    def __init__(self, store: Store, api: CustomerService, settings: OfficialAccountSettings,
                 retry_after: timedelta = timedelta(seconds=30)) -> None:
        self.store = store
        self.api = api
        self.settings = settings
        self.retry_after = retry_after
        self._lock = asyncio.Lock()

    def enqueue(self, openid: str, text: str, dedupe_key: str) -> int | None:
        """Queue one text for ``openid``; None when ``dedupe_key`` was queued before (nothing is sent twice)."""
        return self.store.enqueue_outbound(CHANNEL, openid, {"text": text}, dedupe_key, kind="service")

    async def drain(self) -> DrainReport:
        """Send every due message once (one drain at a time in this process)."""
        report = DrainReport()
        async with self._lock:
            for row in await asyncio.to_thread(self.store.claim_outbound, CHANNEL):
                await self._send(row, report)
        return report

    async def _send(self, row: OutboundView, report: DrainReport) -> None:
        text = str(row.payload.get("text") or "")
        if not await asyncio.to_thread(self.store.reserve_service_message, CHANNEL, row.target,
                                       self.settings.service_window, self.settings.service_limit):
            await self._drop(row, "outside the 48 h window or over the message limit", report)
            return
        try:
            await self.api.send_text(row.target, text)
        except (ServiceWindowClosed, ServiceLimitReached) as exc:
            await self._drop(row, f"WeChat refused: errcode {exc.errcode}", report)
        except (RateLimited, SendFailed) as exc:
            retry_at = datetime.now(timezone.utc) + self.retry_after
            await asyncio.to_thread(self.store.mark_outbound_retry, row.id, type(exc).__name__, retry_at)
            report.retried += 1
        except SendRefused as exc:
            await self._drop(row, f"WeChat refused: errcode {exc.errcode}", report)
        else:
            await asyncio.to_thread(self.store.mark_outbound_sent, row.id, None)
            report.sent += 1

    async def _drop(self, row: OutboundView, why: str, report: DrainReport) -> None:
        await asyncio.to_thread(self.store.mark_outbound_failed, row.id, why)
        await asyncio.to_thread(self.store.audit, "system", "wechat.service_message_dropped", "wechat_user",
                                row.target, {"outbound_id": row.id, "reason": why})
        log.warning("customer-service message %s not sent: %s", row.id, why)
        report.dropped += 1
