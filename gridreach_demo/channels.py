"""``gridreach demo``, second part: one grid's notice and screening over the chat connectors and the voice caller.

Against loopback fakes the demo starts itself (``gridreach_fakes`` of a repository clone: Telegram Bot API, WeChat
Official Account, WeCom, Twilio): on Telegram the grid worker binds a group, sends a notice with a 收到 button and
starts the screening; residents open the group's deep link, bind by sharing their contact and answer (buttons and
typed answers). On WeChat residents follow the Official Account, bind with phone + a one-time code from the grid
worker, reply 收到 to the notice the grid's WeCom robot group got, tap the screening menu and answer (safe mode).
Then a few calls by the voice caller (``gridreach_demo.voice``). Everything runs through the real connectors,
the real Rasa core and action server, into the database; what each channel did is printed and checked against the
database. Residents reply from the scripts of ``scripts.yml``; nothing personal is printed, only counts.
"""

from __future__ import annotations

import importlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from gridreach.dialogue import Dialogue
from gridreach.store import Store
from gridreach.views import ResidentView
from gridreach_app import web
from gridreach_app.report import format_summary
from gridreach_demo.screening import Scenario, assign, check_grid, load_scenarios

__all__ = ["ChannelRun", "Sizes", "check_channel", "import_fakes", "run_channels"]

STATUSES = ("complete", "partial", "in_progress", "abandoned", "not_reached")


@dataclass(frozen=True)
class Sizes:
    """How many residents each channel reaches; ``fast`` scales the platforms' rate limits down (tests);
    ``tts_cache`` is where the calls' prompts are cached (default ``<home>/tts-cache``)."""

    telegram: int = 10
    wechat: int = 10
    calls: int = 3
    fast: bool = False
    tts_cache: Path | None = None


@dataclass
class ChannelRun:
    """What the demo did on one channel: the residents and their scripts, the messages, the expected receipts."""

    name: str
    channel: str  # the channel submissions and receipts are recorded under
    plan: dict[int, Scenario] = field(default_factory=dict)
    identities: dict[int, str] = field(default_factory=dict)  # resident id -> the account the demo bound
    inbound: int = 0  # messages, button presses and events from people to us
    outbound: int = 0  # messages we sent them
    receipts: int = 0  # notice receipts the residents gave
    extra: list[str] = field(default_factory=list)  # more to say (counts only)
    outcomes: Counter[str] = field(default_factory=Counter)  # calls: final status -> how many expected
    attempts: list[int] = field(default_factory=list)  # calls: the contact attempts placed
    unit: str = "messages"


# ---- the fakes ----------------------------------------------------------------------------------------------------
def import_fakes(*names: str) -> dict[str, ModuleType] | str:
    """The loopback fakes (``gridreach_fakes.<name>``), or why they cannot be had (a package built without them)."""
    found: dict[str, ModuleType] = {}
    for name in names:
        try:
            found[name] = importlib.import_module(f"gridreach_fakes.{name}")
        except ImportError as exc:
            return f"the loopback fake gridreach_fakes.{name} cannot be imported ({exc})"
    return found


# ---- checking ----------------------------------------------------------------------------------------------------
def _statuses(counts: Counter[str]) -> str:
    shown = [f"{counts[s]} {s.replace('_', ' ')}" for s in STATUSES if counts.get(s)]
    return ", ".join(shown) or "none"


def check_channel(store: Store, run: ChannelRun, campaign_id: int, notice_id: int | None,
                  questionnaire: str) -> tuple[list[str], Counter[str]]:
    """Mismatches between what ``run`` must have produced and the database, and the statuses found there."""
    expected = Counter(s.status for s in run.plan.values())
    found: Counter[str] = Counter()
    problems: list[str] = []
    for resident_id in run.plan:
        sub = store.latest_submission(resident_id, questionnaire)
        if sub is None or sub.campaign_id != campaign_id:
            found["not_reached"] += 1
        elif sub.channel != run.channel:
            found[f"on {sub.channel}"] += 1
        else:
            found[sub.status] += 1
            if sub.status == "complete" and not sub.answers:
                problems.append(f"{run.name}: a complete screening has no answers stored")
    if found != expected:
        problems.append(f"{run.name} screenings: expected {_statuses(expected)}, database has {_statuses(found)}")
    for resident_id, account in run.identities.items():
        bound = store.resident_by_identity(run.channel, account)
        if bound is None or bound.id != resident_id:
            problems.append(f"{run.name}: a resident's account is not bound to them in the database")
    if notice_id is not None:
        receipts = sum(1 for r in store.notice_receipts(notice_id) if r.channel == run.channel)
        if receipts != run.receipts:
            problems.append(f"{run.name} receipts: expected {run.receipts}, database has {receipts}")
    return problems, found


def describe(run: ChannelRun, found: Counter[str], with_receipts: bool) -> str:
    bound = f"{len(run.identities)} bound, " if run.channel != "voice" else ""
    lines = [f"{run.name}: {len(run.plan)} residents, {bound}"
             f"{run.inbound + run.outbound} {run.unit} ({run.inbound} in, {run.outbound} out)"
             + (f", {run.receipts} notice receipts" if with_receipts else ""),
             f"  screenings in the database: {_statuses(found)}"]
    lines += [f"  {line}" for line in run.extra]
    return "\n".join(lines)


# ---- the run -----------------------------------------------------------------------------------------------------
def _pick(residents: Sequence[ResidentView], count: int, taken: set[int], store: Store,
          channel: str) -> list[ResidentView]:
    """``count`` residents not contacted yet nor opted out of ``channel``: two in three Chinese, one English."""
    free = [r for r in residents if r.phone and r.id not in taken and not store.has_opted_out(r.id, channel)]
    english = [r for r in free if r.language == "en"][: count // 3]
    chosen = english + [r for r in free if r.language == "zh"][: count - len(english)]
    taken.update(r.id for r in chosen)
    return sorted(chosen, key=lambda r: r.id)


async def run_channels(store: Store, dialogue: Dialogue, settings: Any, grid: str = "G02",
                       sizes: Sizes | None = None, out: Callable[[str], None] = print) -> bool:
    """Run the grid's notice and screening over Telegram, WeChat/WeCom and the voice caller; True when the
    database holds exactly what the channels did (or when the fakes are not here: then nothing is run)."""
    sizes = sizes or Sizes()
    fakes = import_fakes("telegram", "wechat", "wecom")
    if isinstance(fakes, str):
        out(f"\nChannels part skipped: {fakes}. (Install GridReach with its gridreach_fakes package, e.g. from a clone: make setup; the part above ran.)")
        return True
    from gridreach_demo.telegram import TelegramPart
    from gridreach_demo.wechat import WeChatPart

    worker = store.grid_worker_for(grid)
    residents = store.residents_in_grid(grid)
    if worker is None or not residents:
        out(f"\nGrid {grid} has no grid worker or no residents: the channels part cannot run.")
        return False
    questionnaire, scenarios = load_scenarios()
    taken: set[int] = set()
    telegram = ChannelRun("Telegram", "telegram")
    telegram_people = _pick(residents, sizes.telegram, taken, store, "telegram")
    telegram.plan = {r.id: assign(r.id, scenarios) for r in telegram_people}
    wechat = ChannelRun("WeChat", "wechat")
    wechat_people = _pick(residents, sizes.wechat, taken, store, "wechat")
    wechat.plan = {r.id: assign(r.id, scenarios) for r in wechat_people}
    out(f"\nGrid {grid} over the channels, against loopback fakes of Telegram, WeChat/WeCom and Twilio: "
        f"{len(telegram.plan)} residents on Telegram, {len(wechat.plan)} on WeChat, up to {sizes.calls} calls...")

    sock = web.bind()  # one web server for both connectors' webhooks, as under `rasa run`
    url = web.url_of(sock)  # known before the app is built: the webhooks are registered with it
    tg = TelegramPart(fakes["telegram"], store, dialogue, url, sizes.fast)
    wc: Any = None
    try:
        wc = WeChatPart(fakes["wechat"], fakes["wecom"], store, dialogue, url, sizes.fast)
        app = web.new_app(routes=[(tg.blueprint(), "/telegram"), (wc.blueprint(), "/wechat")], name="gridreach_demo")
        served = await web.start(app, sock)  # blueprint listeners (a connector's loops) start with it
        try:
            started = await tg.run(worker, telegram_people, telegram, wechat_people, out)
            await wc.run(worker, wechat_people, wechat, started, out)
        finally:
            await served.stop()
    except Exception as exc:  # a broken fake or connector: say what broke, the check fails (exit 1)
        out(f"\nThe channels part failed: {type(exc).__name__}: {exc}")
        return False
    finally:
        tg.close()
        if wc is not None:
            wc.close()
    runs = [telegram, wechat]
    if sizes.calls > 0:
        from gridreach_demo.voice import run_calls

        try:
            voice = await run_calls(store, dialogue, settings, residents, taken, sizes, started.campaign_id,
                                    questionnaire, out)
        except Exception as exc:  # the fake phone or the voice caller broke: say what, the check fails (exit 1)
            out(f"\nThe calls failed: {type(exc).__name__}: {exc}")
            return False
        if voice is not None:
            runs.append(voice)

    out("\nPer channel (messages counted at the fakes; screenings and receipts read back from the database):")
    problems: list[str] = []
    for run in runs:
        notice = started.notice_id if run.channel != "voice" else None
        found_problems, found = check_channel(store, run, started.campaign_id, notice, questionnaire)
        problems += found_problems
        if run.channel == "voice":
            problems += _check_calls(store, run)
        out(describe(run, found, notice is not None))
    plan: dict[int, Scenario] = {}
    for run in runs:
        plan.update(run.plan)
    rows = store.grid_summary(campaign_ids=[started.campaign_id], grid_codes=[grid])
    out(f"\nGrid {grid}, campaign #{started.campaign_id}, read back from the database:")
    out(format_summary(rows))
    if problems:
        out("\nMISMATCH between what the channels did and the database:\n  " + "\n  ".join(problems))
    grid_ok = check_grid(rows, grid, plan, out)
    if not problems:
        out("Checked: each channel's screenings, bindings and receipts equal the database.")
    return grid_ok and not problems


def _check_calls(store: Store, run: ChannelRun) -> list[str]:
    from gridreach_demo.voice import call_outcomes

    got = call_outcomes(store, run)
    if got != run.outcomes:
        return [f"Calls: expected outcomes {dict(run.outcomes)}, database has {dict(got)}"]
    return []
