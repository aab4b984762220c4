"""``gridreach demo``: screen one sample grid end to end through the real Rasa core and action server.

Residents reply from scripted answers (``scripts.yml``) in their own language, good answers and bad ones;
then the per-grid completion and risk counts are read back from the database and checked against what the
scripts must have produced.
"""

from __future__ import annotations

import asyncio
import time
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from campaigns import QUESTIONNAIRE_DIR, load_directory
from gridreach.identity import resident_sender_id
from gridreach.settings import Settings
from gridreach.views import ResidentView
from gridreach_app.dialogue import Dialogue, start_message
from gridreach_app.report import format_summary
from gridreach_app.runtime import open_runtime
from gridreach_app.sample import load_sample

if TYPE_CHECKING:
    from gridreach_demo.channels import Sizes

__all__ = ["Scenario", "assign", "check_grid", "load_scenarios", "run_demo"]

SCRIPTS = Path(__file__).with_name("scripts.yml")


@dataclass(frozen=True)
class Scenario:
    name: str
    share: int
    status: str
    risk: str | None
    replies: dict[str, list[str]]


def load_scenarios(path: Path = SCRIPTS) -> tuple[str, list[Scenario]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    scenarios = [
        Scenario(name, int(s["share"]), s["expect"]["status"], s["expect"]["risk"], s["replies"])
        for name, s in data["scenarios"].items()
    ]
    return data["questionnaire"], scenarios


def assign(resident_id: int, scenarios: list[Scenario]) -> Scenario:
    """A stable, evenly spread choice of scenario for a resident."""
    point = zlib.crc32(f"demo-{resident_id}".encode()) % sum(s.share for s in scenarios)
    for scenario in scenarios:
        if point < scenario.share:
            return scenario
        point -= scenario.share
    return scenarios[-1]


async def _converse(dialogue: Dialogue, resident: ResidentView, questionnaire: str, campaign_id: int,
                    scenario: Scenario) -> int:
    replies = scenario.replies.get(resident.language) or scenario.replies["zh"]
    if not replies:
        return 0
    sender = resident_sender_id(resident.id)
    await dialogue.handle(sender, start_message(questionnaire, campaign_id), "demo")
    for i, text in enumerate(replies):
        await dialogue.handle(sender, text, "demo", {"message_id": f"demo-{campaign_id}-{resident.id}-{i}"})
    return len(replies) + 1


async def run_demo(settings: Settings, grid: str = "G01", limit: int | None = None, concurrency: int = 8,
                   channels: Sizes | None = None, channels_grid: str = "G02") -> int:
    """Screen ``grid`` by script through the Rasa core; then, with ``channels``, run ``channels_grid``'s notice and
    screening over the Telegram and WeChat connectors and the voice caller (``gridreach_demo.channels``)."""
    questionnaire, scenarios = load_scenarios()
    async with open_runtime(settings, keep_conversations=False) as rt:
        print(load_sample(rt.store))
        residents = rt.store.residents_in_grid(grid)[:limit]
        if not residents:
            print(f"Grid {grid} has no residents.")
            return 2
        version = load_directory(QUESTIONNAIRE_DIR)[questionnaire].version
        campaign_id = rt.store.create_campaign(
            f"演示排查 demo {time.strftime('%Y-%m-%d %H:%M')}", grid, questionnaire, version, "demo"
        )
        plan = {r.id: assign(r.id, scenarios) for r in residents}
        opted_out = {r.id for r in residents if rt.store.has_opted_out(r.id, "demo")}
        if opted_out:
            print(f"{len(opted_out)} residents opted out in an earlier run: they are not contacted again.")
            silent = Scenario("opted_out_earlier", 0, "not_reached", None, {"zh": [], "en": [], "ko": []})
            plan.update({rid: silent for rid in opted_out})
        languages = Counter(r.language for r in residents)
        print(f"Screening grid {grid}: {len(residents)} residents ({dict(languages)}), campaign #{campaign_id}, "
              f"through the Rasa core and action server...")
        started = time.monotonic()
        gate = asyncio.Semaphore(concurrency)
        turns = 0
        done = 0

        async def one(resident: ResidentView) -> None:
            nonlocal turns, done
            async with gate:
                sent = await _converse(rt.dialogue, resident, questionnaire, campaign_id, plan[resident.id])
                turns += sent
                done += 1
                if done % 50 == 0 or done == len(residents):
                    print(f"  {done}/{len(residents)} residents, {turns} messages", flush=True)

        await asyncio.gather(*(one(r) for r in residents))
        elapsed = time.monotonic() - started
        print(f"{turns} messages in {elapsed:.0f}s ({turns / max(elapsed, 1e-9):.1f} messages/s)\n")

        rows = rt.store.grid_summary(campaign_ids=[campaign_id])
        print("Per grid, read back from the database:")
        print(format_summary(rows))
        ok = check_grid(rows, grid, plan)
        if channels is not None:
            from gridreach_demo.channels import run_channels

            ok = await run_channels(rt.store, rt.dialogue, settings, channels_grid, channels) and ok
        print("\nNext: talk to the bot yourself as a resident, answers stored:  .venv/bin/gridreach chat")
        print("      see the counts again:                                     .venv/bin/gridreach report")
        return 0 if ok else 1


def check_grid(rows: Any, grid: str, plan: dict[int, Scenario], out: Callable[[str], None] = print) -> bool:
    """The database must hold exactly what the scripts produce."""
    row = next(r for r in rows if r.grid_code == grid)
    expected_status = Counter(s.status for s in plan.values())
    expected_status["not_reached"] += row.residents - len(plan)  # beyond --limit
    expected_risk = Counter(s.risk for s in plan.values() if s.risk)
    got_status = {k: getattr(row, k) for k in ("complete", "partial", "in_progress", "abandoned", "not_reached")}
    mismatches = [f"{k}: expected {expected_status.get(k, 0)}, database has {v}"
                  for k, v in got_status.items() if expected_status.get(k, 0) != v]
    mismatches += [f"risk {k}: expected {expected_risk.get(k, 0)}, database has {row.risk.get(k, 0)}"
                   for k in ("high", "moderate", "low") if expected_risk.get(k, 0) != row.risk.get(k, 0)]
    if mismatches:
        out("\nMISMATCH between the scripts and the database:\n  " + "\n  ".join(mismatches))
        return False
    out(f"\nChecked: grid {grid}'s counts equal what the scripted replies must produce.")
    return True
