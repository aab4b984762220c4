"""A grid worker's (or operator's) commands at a terminal: notices, screenings, binding codes, WeCom robots, groups.

Everything goes through the outbox: ``gridreach notice`` and ``gridreach screen`` queue one message per bound group
(each once, whatever happens) and a running ``gridreach serve`` delivers them, paced; ``--send-now`` drains the
outboxes in this process with the channels' settings instead. Nothing here logs or prints a resident's answers, and
a one-time code is printed once, never stored in clear.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from bots.telegram.broadcast import enqueue_notice, enqueue_screening
from bots.wechat.config import WeComSettings
from bots.wechat.wecom import APPCHAT, ROBOT, WeComAppChat, WeComRobot, notice_markdown, register_robot
from campaigns import QUESTIONNAIRE_DIR
from campaigns.registry import load_and_register
from gridreach.errors import ConfigError, GridReachError, NotFound
from gridreach.phones import mask_phone
from gridreach.store import Store
from gridreach.views import ChatGroupView
from gridreach_app.channels_config import ChannelsConfig

__all__ = ["TELEGRAM", "NoticeQueued", "Screening", "add_robot", "issue_code", "list_groups", "queue_notice",
           "send_now", "start_screening"]

TELEGRAM = "telegram"
CHANNELS = (TELEGRAM, ROBOT, APPCHAT)
MAX_NOTICE_CHARS = 3500  # Telegram takes 4096 characters; the notice's header and button come on top
WECOM_MAX_BYTES = 4096  # a WeCom markdown message


@dataclass
class NoticeQueued:
    notice_id: int
    queued: dict[str, list[str]] = field(default_factory=dict)  # channel -> group ids
    skipped: dict[str, list[str]] = field(default_factory=dict)  # channel -> group ids it cannot reach (why: note)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Screening:
    campaign_id: int
    title: str
    token: str
    link: str | None  # t.me deep link (Telegram configured)
    telegram_groups: list[str]


def _grid(store: Store, grid: str) -> str:
    codes = {g.code.upper(): g.code for g in store.grids()}
    if grid.upper() not in codes:
        raise NotFound(f"unknown grid {grid!r} (known: {', '.join(sorted(codes.values())) or 'none'})")
    return codes[grid.upper()]


def _wecom(channels: ChannelsConfig) -> WeComSettings:
    return channels.wecom or WeComSettings()


def queue_notice(store: Store, channels: ChannelsConfig, grid: str, title: str | None, body: str,
                 actor: str) -> NoticeQueued:
    """Create the notice and queue it to every bound group of the grid that can be reached.

    Refused before anything is stored (``ConfigError`` / ``NotFound``) when the text is empty or too long, the grid
    is unknown, or no group of the grid can receive it.
    """
    body = body.strip()
    if not body:
        raise ConfigError("BODY", "the notice has no text")
    if len(body) > MAX_NOTICE_CHARS:
        raise ConfigError("BODY", f"is {len(body)} characters; a notice takes at most {MAX_NOTICE_CHARS}")
    grid = _grid(store, grid)
    title = (title or body.splitlines()[0]).strip()[:60]
    wecom = _wecom(channels)
    groups = {c: store.groups_for_grid(grid, c) for c in CHANNELS}
    if groups[ROBOT] or groups[APPCHAT]:
        size = len(notice_markdown(title, body).encode("utf-8"))
        if size > WECOM_MAX_BYTES:
            raise ConfigError("BODY", f"is too long for WeCom ({size} bytes with its title; at most "
                                      f"{WECOM_MAX_BYTES}): shorten it")
    reachable = (len(groups[TELEGRAM]) + sum(g.external_id in wecom.robot_keys for g in groups[ROBOT])
                 + (len(groups[APPCHAT]) if wecom.corp_id else 0))
    if not reachable:
        raise NotFound(f"no group of grid {grid} can receive a notice: bind a Telegram group (/bind {grid} in the "
                       f"group) or register a WeCom robot (gridreach robot add --grid {grid} --name NAME)")
    notice_id = store.create_notice(grid, title, body, actor)
    result = NoticeQueued(notice_id)
    if groups[TELEGRAM]:
        result.queued[TELEGRAM] = enqueue_notice(store, notice_id, grid, body)
        if channels.telegram is None:
            result.notes.append("Telegram is not configured here: a `gridreach serve` with Telegram sends them")
    if groups[ROBOT]:
        robots = WeComRobot(store, wecom).enqueue_notice(notice_id)
        result.queued[ROBOT] = robots.queued + robots.already
        if robots.missing_keys:
            result.skipped[ROBOT] = robots.missing_keys
            result.notes.append("no webhook key configured for robot(s) " + ", ".join(robots.missing_keys)
                                + " (GRIDREACH_WECOM_ROBOTS)")
    if groups[APPCHAT]:
        if wecom.corp_id:
            chats = WeComAppChat(store, wecom).enqueue_notice(notice_id)
            result.queued[APPCHAT] = chats.queued + chats.already
        else:
            result.skipped[APPCHAT] = [g.external_id for g in groups[APPCHAT]]
            result.notes.append("WeCom app chats skipped: GRIDREACH_WECOM_CORP_ID / CORP_SECRET are not set")
    return result


async def send_now(store: Store, channels: ChannelsConfig, timeout: float = 120.0) -> list[str]:
    """Drain the outboxes of the configured channels in this process; what could not be drained, by channel."""
    from bots.telegram.api import TelegramApi
    from bots.telegram.sender import Sender

    problems: list[str] = []
    if channels.telegram is not None:
        api = TelegramApi(channels.telegram)
        try:
            await api.start()
            await _until_idle(store, TELEGRAM, Sender(store, api, channels.telegram).drain, timeout)
        except GridReachError as exc:
            problems.append(f"telegram: {exc}")
        finally:
            await api.close()
    elif store.list_outbound(TELEGRAM, "pending"):
        problems.append("telegram: not configured here, its messages stay queued")
    wecom = _wecom(channels)
    notifiers = [WeComRobot(store, wecom)] + ([WeComAppChat(store, wecom)] if wecom.corp_id else [])
    for notifier in notifiers:
        if store.list_outbound(notifier.channel, "pending"):
            await notifier.drain_until_idle(timeout)
    return problems


async def _until_idle(store: Store, channel: str, drain: Callable[[], Awaitable[Any]], timeout: float) -> None:
    """Drain, then wait for what was put back (a 429's ``retry_after``) and drain again, until nothing is pending."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while True:
        await drain()
        pending = store.list_outbound(channel, "pending")
        if not pending or loop.time() >= end:
            return
        due = (min(row.not_before for row in pending) - datetime.now(timezone.utc)).total_seconds()
        await asyncio.sleep(min(max(due, 0.05), max(end - loop.time(), 0.0)))


def outbox_counts(store: Store, key_prefix: str) -> dict[str, Counter[str]]:
    """Per channel, how many outbox rows whose dedupe key starts with ``key_prefix`` are in each status."""
    counts: dict[str, Counter[str]] = {}
    for row in store.list_outbound():
        if row.dedupe_key.startswith(key_prefix):
            counts.setdefault(row.channel, Counter())[row.status] += 1
    return counts


def start_screening(store: Store, channels: ChannelsConfig, grid: str, questionnaire_id: str,
                    actor: str) -> Screening:
    """A campaign of ``questionnaire_id`` for the grid; its deep link posted to the grid's Telegram groups."""
    questionnaires = load_and_register(store, QUESTIONNAIRE_DIR)
    q = questionnaires.get(questionnaire_id)
    if q is None:
        raise NotFound(f"unknown questionnaire {questionnaire_id!r} (known: {', '.join(sorted(questionnaires))})")
    grid = _grid(store, grid)
    title = q.title.get("zh") or q.id
    campaign_id = store.create_campaign(f"{title} ({grid})", grid, q.id, q.version, actor)
    token = store.campaign_token(campaign_id)
    if channels.telegram is None:
        return Screening(campaign_id, title, token, None, [])
    both = " / ".join(dict.fromkeys(t for t in (q.title.get("zh"), q.title.get("en")) if t)) or title
    bot = channels.telegram.bot_username
    chats = enqueue_screening(store, campaign_id, grid, both, bot, "zh")
    return Screening(campaign_id, title, token, f"https://t.me/{bot}?start={token}", chats)


def issue_code(store: Store, phone: str | None, resident_id: int | None, actor: str) -> tuple[str, str]:
    """A one-time binding code for a resident: ``(who, code)``, ``who`` with the phone masked."""
    resident = store.find_resident_by_phone(phone) if phone else (
        store.get_resident(resident_id) if resident_id is not None else None)
    if resident is None:
        raise NotFound("no resident with this phone number" if phone else f"no resident #{resident_id}")
    code = store.issue_link_code(resident.id, actor)
    return f"{resident.name} (#{resident.id}, grid {resident.grid_code}, {mask_phone(resident.phone)})", code


def add_robot(store: Store, channels: ChannelsConfig, grid: str, name: str, actor: str) -> ChatGroupView:
    """Bind the WeCom group robot configured under ``name`` to the grid (its key stays in the configuration)."""
    grid = _grid(store, grid)
    wecom = _wecom(channels)
    if name not in wecom.robot_keys:
        known = ", ".join(wecom.robots) or "none"
        raise ConfigError("GRIDREACH_WECOM_ROBOTS", f"has no robot named {name!r} (configured: {known}); add "
                                                    f"{name}=<webhook key> there or under wecom.robots")
    return register_robot(store, wecom, grid, name, actor)


@dataclass(frozen=True)
class GroupRow:
    group: ChatGroupView
    queued: int
    failed: int
    note: str


def list_groups(store: Store, channels: ChannelsConfig, grid: str | None = None) -> list[GroupRow]:
    """Every group bound to the grid (or to any grid), active or not, with its outbox backlog."""
    codes = [_grid(store, grid)] if grid else [g.code for g in store.grids()]
    pending: Counter[tuple[str, str]] = Counter()
    failed: Counter[tuple[str, str]] = Counter()
    for row in store.list_outbound(status="pending"):
        pending[(row.channel, row.target)] += 1
    for row in store.list_outbound(status="failed"):
        failed[(row.channel, row.target)] += 1
    wecom = _wecom(channels)
    rows = []
    for code in codes:
        for group in store.groups_for_grid(code, None, active_only=False):
            key = (group.channel, group.external_id)
            note = ""
            if group.channel == ROBOT and group.external_id not in wecom.robot_keys:
                note = "no webhook key configured"
            elif group.channel == APPCHAT and not wecom.corp_id:
                note = "WeCom app not configured"
            elif group.channel == TELEGRAM and channels.telegram is None:
                note = "Telegram not configured here"
            rows.append(GroupRow(group, pending[key], failed[key], note))
    return rows
