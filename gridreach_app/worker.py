"""A grid worker's (or operator's) commands at a terminal: notices, screenings, binding codes, WeCom robots, groups.

Everything goes through the outbox: ``gridreach notice`` and ``gridreach screen`` queue one message per bound group
(each once, whatever happens) and a running ``gridreach serve`` delivers them, paced; ``--send-now`` drains the
outboxes in this process with the channels' settings instead. Nothing here logs or prints a resident's answers, and
a one-time code is printed once, never stored in clear.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from bots.wechat.config import WeComSettings
from bots.wechat.wecom import register_robot
from campaigns import QUESTIONNAIRE_DIR
from campaigns.registry import load_and_register
from gridreach.errors import ConfigError, NotFound
from gridreach.phones import mask_phone
from gridreach.store import Store
from gridreach.views import ChatGroupView
from gridreach_app.channels_config import ChannelsConfig

__all__ = ["NoticeSent", "Screening", "add_robot", "issue_code", "list_groups", "outbox_channels", "queue_notice",
           "send_now", "start_screening"]

MAX_NOTICE_CHARS = 3500  # Telegram takes 4096 characters; the notice's header and button come on top


@dataclass
class NoticeSent:
    notice_id: int
    queued: dict[str, list[str]] = field(default_factory=dict)  # channel -> group ids
    skipped: dict[str, list[str]] = field(default_factory=dict)  # channel -> group ids it cannot reach (why: note)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Screening:
    campaign_id: int
    title: str
    token: str
    lines: list[str]  # what each connector did or says about it ("telegram: link ..., queued for 2 group(s)")
    queued: list[str]  # the groups a post was queued for
    posted: bool = False  # some connector posts it (`--send-now` sends it from here)


def _grid(store: Store, grid: str) -> str:
    codes = {g.code.upper(): g.code for g in store.grids()}
    if grid.upper() not in codes:
        raise NotFound(f"unknown grid {grid!r} (known: {', '.join(sorted(codes.values())) or 'none'})")
    return codes[grid.upper()]


def _wecom(channels: ChannelsConfig) -> WeComSettings:
    return channels.settings.get("wecom") or WeComSettings()


def outbox_channels(channels: ChannelsConfig) -> list[str]:
    """The outbox channels of the connectors, in their order (``telegram``, ``wecom_robot``, ...)."""
    return [name for c in channels.connectors for name in c.outbox_channels]


def queue_notice(store: Store, channels: ChannelsConfig, grid: str, title: str | None, body: str,
                 actor: str) -> NoticeSent:
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
    reachable = sum(c.reachable(store, channels.settings.get(c.name), grid, title, body) for c in channels.connectors)
    if not reachable:
        raise NotFound(f"no group of grid {grid} can receive a notice: bind a Telegram group (/bind {grid} in the "
                       f"group) or register a WeCom robot (gridreach robot add --grid {grid} --name NAME)")
    notice_id = store.create_notice(grid, title, body, actor)
    result = NoticeSent(notice_id)
    for connector in channels.connectors:
        part = connector.queue_notice(store, channels.settings.get(connector.name), notice_id, grid, body)
        result.queued.update(part.queued)
        result.skipped.update(part.skipped)
        result.notes += part.notes
    return result


async def send_now(store: Store, channels: ChannelsConfig, timeout: float = 120.0) -> list[str]:
    """Drain the outboxes of the configured channels in this process; what could not be drained, by channel."""
    problems: list[str] = []
    for connector in channels.connectors:
        problems += await connector.send_now(store, channels.settings.get(connector.name), timeout)
    return problems


def outbox_counts(store: Store, key_prefix: str) -> dict[str, Counter[str]]:
    """Per channel, how many outbox rows whose dedupe key starts with ``key_prefix`` are in each status."""
    counts: dict[str, Counter[str]] = {}
    for row in store.list_outbound():
        if row.dedupe_key.startswith(key_prefix):
            counts.setdefault(row.channel, Counter())[row.status] += 1
    return counts


def start_screening(store: Store, channels: ChannelsConfig, grid: str, questionnaire_id: str,
                    actor: str) -> Screening:
    """A campaign of ``questionnaire_id`` for the grid, announced by each connector (Telegram posts its deep
    link to the grid's groups)."""
    questionnaires = load_and_register(store, QUESTIONNAIRE_DIR)
    q = questionnaires.get(questionnaire_id)
    if q is None:
        raise NotFound(f"unknown questionnaire {questionnaire_id!r} (known: {', '.join(sorted(questionnaires))})")
    grid = _grid(store, grid)
    title = q.title.get("zh") or q.id
    campaign_id = store.create_campaign(f"{title} ({grid})", grid, q.id, q.version, actor)
    token = store.campaign_token(campaign_id)
    both = " / ".join(dict.fromkeys(t for t in (q.title.get("zh"), q.title.get("en")) if t)) or title
    lines: list[str] = []
    queued: list[str] = []
    posted = False
    for connector in channels.connectors:
        said = connector.announce_screening(store, channels.settings.get(connector.name), campaign_id, grid, both,
                                            token)
        if said is not None:
            lines.append(said.line)
            if said.queued is not None:
                queued += said.queued
                posted = True
    return Screening(campaign_id, title, token, lines, queued, posted)


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
    rows = []
    for code in codes:
        for group in store.groups_for_grid(code, None, active_only=False):
            key = (group.channel, group.external_id)
            notes = (c.group_note(group, channels.settings.get(c.name)) for c in channels.connectors)
            rows.append(GroupRow(group, pending[key], failed[key], next((n for n in notes if n), "")))
    return rows
