"""Grid workers on Telegram: binding groups to their grid, notices, screenings and one-time codes.

A Telegram user is a grid worker once they shared, in a private chat, a contact whose phone is a grid worker's
(``Store.find_grid_worker_by_phone``). Group commands: ``/bind <grid>``, ``/unbind``. Private commands:
``/notice <text>``, ``/screen [questionnaire]``, ``/code <resident phone>``.

Who may bind a group: when it is unbound (never bound, or unbound / left), a grid worker, to their own grid; when it
is bound, only a worker of that same grid; an administrator (``admin_user_ids``) any group to any grid. Every
bind, unbind and refused takeover is in the audit log. The database is called off the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping

from bots.telegram.broadcast import enqueue_notice, enqueue_screening
from bots.telegram.config import TelegramSettings
from bots.telegram.journal import once
from bots.telegram.sender import CHANNEL, Sender
from bots.telegram.updates import Incoming
from campaigns.phrases import both, phrase
from campaigns.questionnaire import Questionnaire
from gridreach.errors import GroupConflict, NotFound
from gridreach.store import Store
from gridreach.views import GridWorkerView

__all__ = ["WORKER_COMMANDS", "WorkerDesk", "split_command"]

WORKER_COMMANDS = ("/notice", "/screen", "/code")
DEFAULT_QUESTIONNAIRE = "daily_health"


def split_command(message: str, bot_username: str) -> tuple[str, str] | None:
    """``"/bind@my_bot G01"`` → ``("/bind", "G01")``; None when not a command or addressed to another bot."""
    if not message.startswith("/"):
        return None
    head, _, args = message.strip().partition(" ")
    command, _, addressee = head.partition("@")
    if addressee and addressee.lower() != bot_username.lower():
        return None
    return command.lower(), args.strip()


class WorkerDesk:
    """What grid workers can do through the bot."""

    def __init__(self, store: Store, sender: Sender, settings: TelegramSettings,
                 questionnaires: Callable[[], Mapping[str, Questionnaire]]) -> None:
        self.store, self.sender, self.settings = store, sender, settings
        self._questionnaires = questionnaires

    async def worker(self, user_id: int) -> GridWorkerView | None:
        return await asyncio.to_thread(self.store.worker_by_identity, CHANNEL, str(user_id))

    def is_admin(self, user_id: int) -> bool:
        return user_id in self.settings.admin_user_ids

    # ---- in groups -------------------------------------------------------------------------------------------
    async def group_message(self, inc: Incoming) -> None:
        """Group service messages and commands; any other group message is ignored (answers are private)."""
        if inc.migrate_to is not None:
            await asyncio.to_thread(self.store.migrate_group, CHANNEL, str(inc.chat_id), str(inc.migrate_to))
            return
        if inc.migrate_from is not None:
            await asyncio.to_thread(self.store.migrate_group, CHANNEL, str(inc.migrate_from), str(inc.chat_id))
            return
        parsed = split_command(inc.text or "", self.settings.bot_username)
        if parsed is None or inc.sender is None or parsed[0] not in ("/bind", "/unbind"):
            return
        command, args = parsed
        worker = await self.worker(inc.sender.id)
        admin = self.is_admin(inc.sender.id)
        if worker is None and not admin:
            await self.sender.send_now(inc.chat_id, both("telegram.not_worker"))
            return
        lang = worker.language if worker is not None else "zh"
        actor = f"worker:{worker.id}" if worker is not None else f"admin:telegram:{inc.sender.id}"
        group = await asyncio.to_thread(self.store.get_group, CHANNEL, str(inc.chat_id))
        bound_to = group.grid_code if group is not None and group.active else None
        if command == "/unbind":
            if bound_to is not None and (admin or (worker is not None and bound_to == worker.grid_code)):
                await asyncio.to_thread(self.store.deactivate_group, CHANNEL, str(inc.chat_id), f"unbound by {actor}")
                await self.sender.send_now(inc.chat_id, phrase("telegram.unbound_group", lang))
            return
        own = worker.grid_code if worker is not None else None
        grid = args.split()[0].upper() if args else ""
        if not grid:
            await self.sender.send_now(inc.chat_id, phrase("telegram.bind_usage", lang, grid=own or "G01"))
        elif not admin and grid != (own or "").upper():
            await self.sender.send_now(inc.chat_id, phrase("telegram.bind_other_grid", lang, grid=own))
        elif not admin and bound_to is not None and bound_to != own:  # a takeover: refused, and audited
            await self._refuse_takeover(inc, actor, bound_to, own, lang)
        else:
            await self._bind(inc, own if own is not None and grid == own.upper() else grid, actor, lang, admin)

    async def _bind(self, inc: Incoming, grid: str, actor: str, lang: str, admin: bool) -> None:
        try:  # the store checks the takeover again under the group's lock: two workers racing cannot both win
            await asyncio.to_thread(self.store.bind_group, CHANNEL, str(inc.chat_id), grid, inc.chat_title, actor,
                                    takeover=admin)
        except NotFound:  # only an administrator can name a grid that is not theirs
            await self.sender.send_now(inc.chat_id, phrase("telegram.bind_unknown_grid", lang, grid=grid))
            return
        except GroupConflict as taken:
            await self._refuse_takeover(inc, actor, taken.grid, grid, lang)
            return
        await self.sender.send_now(inc.chat_id, phrase("telegram.bound_group", lang, grid=grid))

    async def _refuse_takeover(self, inc: Incoming, actor: str, bound_to: str, asked_for: str | None,
                               lang: str) -> None:
        await asyncio.to_thread(self.store.audit, actor, "group_bind_refused", "chat_group", str(inc.chat_id),
                                {"channel": CHANNEL, "bound_to": bound_to, "asked_for": asked_for})
        await self.sender.send_now(inc.chat_id, phrase("telegram.group_taken", lang, grid=bound_to))

    async def bot_left_group(self, inc: Incoming) -> None:
        if inc.member_status in ("left", "kicked"):
            await asyncio.to_thread(self.store.deactivate_group, CHANNEL, str(inc.chat_id),
                                    f"the bot was {inc.member_status}")

    # ---- in private ------------------------------------------------------------------------------------------
    async def private_command(self, inc: Incoming, command: str, args: str, lang: str) -> None:
        assert inc.sender is not None
        worker = await self.worker(inc.sender.id)
        if worker is None:
            await self.sender.send_now(inc.chat_id, phrase("telegram.not_worker", lang))
            return
        lang = worker.language
        if command == "/notice":
            await self._notice(inc.chat_id, worker, args, lang)
        elif command == "/screen":
            await self._screen(inc.chat_id, worker, args, lang)
        else:
            await self._code(inc.chat_id, worker, args, lang)

    async def _notice(self, chat_id: int, worker: GridWorkerView, body: str, lang: str) -> None:
        if not body:
            await self.sender.send_now(chat_id, phrase("telegram.notice_usage", lang))
            return
        if not await asyncio.to_thread(self.store.groups_for_grid, worker.grid_code, CHANNEL):
            await self.sender.send_now(chat_id, phrase("telegram.no_groups", lang, grid=worker.grid_code))
            return
        title = body.splitlines()[0][:60]
        notice_id = await once("notice", lambda: asyncio.to_thread(  # a retried update makes no second notice
            self.store.create_notice, worker.grid_code, title, body, f"worker:{worker.id}"))
        chats = await asyncio.to_thread(enqueue_notice, self.store, notice_id, worker.grid_code, body)
        self.sender.wake()
        await self.sender.send_now(chat_id, phrase("telegram.notice_queued", lang, count=len(chats)))

    async def _screen(self, chat_id: int, worker: GridWorkerView, args: str, lang: str) -> None:
        questionnaires = await asyncio.to_thread(self._questionnaires)
        qid = args.split()[0] if args else DEFAULT_QUESTIONNAIRE
        q = questionnaires.get(qid)
        if q is None:
            await self.sender.send_now(chat_id, phrase("telegram.screen_usage", lang, names=", ".join(sorted(questionnaires))))
            return
        if not await asyncio.to_thread(self.store.groups_for_grid, worker.grid_code, CHANNEL):
            await self.sender.send_now(chat_id, phrase("telegram.no_groups", lang, grid=worker.grid_code))
            return
        title = q.title.get(lang) or q.title.get("zh") or q.id
        campaign_id = await once("campaign", lambda: asyncio.to_thread(  # a retried update makes no second one
            self.store.create_campaign, f"{title} ({worker.grid_code})", worker.grid_code, q.id, q.version,
            f"worker:{worker.id}"))
        both = " / ".join(dict.fromkeys(t for t in (q.title.get("zh"), q.title.get("en")) if t))
        chats = await asyncio.to_thread(enqueue_screening, self.store, campaign_id, worker.grid_code, both or title,
                                        self.settings.bot_username, "zh")
        self.sender.wake()
        await self.sender.send_now(chat_id, phrase("telegram.screen_queued", lang, title=title, count=len(chats)))

    async def _code(self, chat_id: int, worker: GridWorkerView, args: str, lang: str) -> None:
        if not args:
            await self.sender.send_now(chat_id, phrase("telegram.code_usage", lang))
            return
        resident = await asyncio.to_thread(self.store.find_resident_by_phone, args.split()[0])
        if resident is None or resident.grid_code != worker.grid_code:
            await self.sender.send_now(chat_id, phrase("telegram.code_not_in_grid", lang))
            return
        code = await asyncio.to_thread(self.store.issue_link_code, resident.id, f"worker:{worker.id}")
        # never parked in the outbox: the code is stored only hashed, its text must not sit in a table
        await self.sender.send_now(chat_id, phrase("telegram.code_issued", lang, name=resident.name, code=code), defer=False)
