"""`gridreach demo`'s second part: grid G02's notice and screening over the Telegram and WeChat/WeCom connectors
against the loopback fakes, through the real Rasa core and action server; the counts it prints must be what the
database holds. A small version (a few residents per channel, the platforms' rate limits scaled down) on SQLite and
PostgreSQL; and what happens without the fakes, or when the database disagrees.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import tempfile
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

# Sanic 21.12 rewrites its request handling when an app starts ("touchup"); a second app in the same process (the
# second backend's demo) then fails unless test mode keeps the originals (as tests/bots/conftest.py does).
from sanic import Sanic

from gridreach.settings import Settings
from gridreach.store import Store
from gridreach_app.cli import build_parser
from gridreach_app.model import PROJECT_ROOT
from gridreach_demo.channels import ChannelRun, Sizes, check_channel, run_channels
from gridreach_demo.screening import Scenario

Sanic.test_mode = True

pytestmark = pytest.mark.timeout(900)

CHANNEL_LINE = re.compile(r"^(Telegram|WeChat): (\d+) residents, (\d+) bound, (\d+) messages \((\d+) in, (\d+) out\)"
                          r", (\d+) notice receipts$")
STATUS = re.compile(r"(\d+) (complete|partial|in progress|abandoned|not reached)")


def _printed(out: str) -> dict[str, dict[str, object]]:
    """Per channel: what the demo printed (counts and the statuses it read back)."""
    lines = out.splitlines()
    found: dict[str, dict[str, object]] = {}
    for i, line in enumerate(lines):
        match = CHANNEL_LINE.match(line)
        if match is None:
            continue
        name, residents, bound, messages, inbound, outbound, receipts = match.groups()
        statuses = {s.replace(" ", "_"): int(n) for n, s in STATUS.findall(lines[i + 1])}
        assert lines[i + 1].startswith("  screenings in the database:"), lines[i + 1]
        found[name] = {"residents": int(residents), "bound": int(bound), "messages": int(messages),
                       "in": int(inbound), "out": int(outbound), "receipts": int(receipts), "statuses": statuses}
    return found


def test_demo_runs_a_grid_over_telegram_and_wechat_and_prints_what_the_database_holds(
    db_url: str, tmp_path: Path
) -> None:
    settings = Settings(home=tmp_path / "home", database_url=db_url, model_dir=PROJECT_ROOT / "models")
    since = datetime.now(timezone.utc) - timedelta(seconds=5)
    # calls last as long as their prompts take to say: placed on one backend only; the prompt cache is shared with
    # tests/voice (keyed by content), so only a first run synthesises
    calls = 3 if db_url.startswith("sqlite") else 0
    cache = Path(os.environ.get("GRIDREACH_TEST_TTS_CACHE", Path(tempfile.gettempdir()) / "gridreach-tts-cache"))
    # the demo runs in a process of its own, as `make demo` runs it (and away from this process's captured streams)
    script = (
        "import asyncio, sys\n"
        "from pathlib import Path\n"
        "from gridreach.settings import Settings\n"
        "from gridreach_demo.screening import run_demo\n"
        "from gridreach_demo.channels import Sizes\n"
        f"settings = Settings(home=Path({str(settings.home)!r}), database_url={db_url!r}, "
        f"model_dir=Path({str(settings.model_dir)!r}))\n"
        f"sizes = Sizes(telegram=4, wechat=4, calls={calls}, fast=True, tts_cache=Path({str(cache)!r}))\n"
        "sys.exit(asyncio.run(run_demo(settings, grid='G01', limit=2, concurrency=2, channels=sizes)))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT, capture_output=True, text=True,
                          timeout=1200, env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"})
    out = done.stdout
    assert done.returncode == 0, out[-3000:] + done.stderr[-3000:]
    assert "Checked: grid G01's counts equal" in out  # the first part is unchanged
    assert "Checked: grid G02's counts equal" in out
    assert "Checked: each channel's screenings, bindings and receipts equal the database." in out
    assert "MISMATCH" not in out
    printed = _printed(out)
    assert set(printed) == {"Telegram", "WeChat"}, out

    store = Store.from_url(db_url)
    try:
        campaign = int(re.search(r"Grid G02, campaign #(\d+)", out).group(1))  # type: ignore[union-attr]
        notice = store.latest_notice("G02", since)
        assert notice is not None
        receipts = Counter(r.channel for r in store.notice_receipts(notice.id))
        in_db: dict[str, Counter[str]] = {"telegram": Counter(), "wechat": Counter(), "voice": Counter()}
        for resident in store.residents_in_grid("G02"):
            sub = store.latest_submission(resident.id, "daily_health")
            if sub is not None and sub.campaign_id == campaign:
                in_db[sub.channel][sub.status] += 1
                if sub.channel == "voice":
                    assert sub.language == "ko" and len(sub.answers) == 7
        for name, channel in (("Telegram", "telegram"), ("WeChat", "wechat")):
            shown = printed[name]
            statuses = dict(shown["statuses"])  # type: ignore[call-overload]
            assert shown["residents"] == 4 and sum(statuses.values()) == 4
            reached = {k: v for k, v in statuses.items() if k != "not_reached"}
            assert reached == dict(in_db[channel]), (name, reached, in_db[channel])
            assert shown["receipts"] == receipts[channel]
            assert shown["in"] > 0 and shown["out"] > 0  # type: ignore[operator]
        assert sum(in_db["telegram"].values()) + sum(in_db["wechat"].values()) > 0
        assert receipts["telegram"] > 0 and receipts["wechat"] > 0
        if calls:  # two answered (keypad; keypad and Korean speech), one busy: as printed, and in the database
            match = re.search(r"^Calls: 3 residents, \d+ spoken turns \((\d+) in, (\d+) out\)\n"
                              r"  screenings in the database: (.*)$", out, re.M)
            assert match is not None, out
            assert match.group(3) == "2 complete, 1 not reached"
            assert "calls: 1 busy, 2 completed" in out
            assert in_db["voice"] == Counter({"complete": 2})
        else:
            assert "Calls:" not in out

        printed_row = next(line.split() for line in out.splitlines()[out.splitlines().index(
            f"Grid G02, campaign #{campaign}, read back from the database:"):] if line.startswith("G02"))
        [row] = store.grid_summary(campaign_ids=[campaign], grid_codes=["G02"])
        numbers = [row.residents, row.complete, row.partial, row.in_progress, row.abandoned, row.not_reached,
                   row.risk.get("high", 0), row.risk.get("moderate", 0), row.risk.get("low", 0)]
        assert [int(n) for n in printed_row[2:]] == numbers
        assert row.complete + row.partial + row.in_progress + row.abandoned == sum(
            sum(c.values()) for c in in_db.values())
    finally:
        store.close()


def test_without_the_fakes_the_channels_part_says_so_and_changes_nothing(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "gridreach_fakes.telegram", None)  # an install built without the fakes
    said: list[str] = []
    settings = Settings(home=tmp_path / "home", database_url="sqlite://", model_dir=tmp_path)
    assert asyncio.run(run_channels(store, None, settings, "G02", Sizes(), out=said.append)) is True  # type: ignore[arg-type]
    assert len(said) == 1 and "Channels part skipped" in said[0] and "gridreach_fakes.telegram" in said[0]
    assert store.grid_summary() == []


def test_a_channel_that_disagrees_with_the_database_is_reported(store: Store) -> None:
    store.ensure_grid("S01", "和平街道", "C01", "幸福社区", "G02", "第二网格")
    resident = store.add_resident("G02", "幸福路1号", "测试", "+8613900000001", 1980, "zh")
    notice = store.create_notice("G02", "通知", "正文", "test")
    run = ChannelRun("Telegram", "telegram", plan={resident: Scenario("healthy", 1, "complete", "low", {})},
                     identities={resident: "4242"}, receipts=1)
    problems, found = check_channel(store, run, campaign_id=1, notice_id=notice, questionnaire="daily_health")
    assert found == Counter({"not_reached": 1})
    assert any("expected 1 complete, database has 1 not reached" in p for p in problems)
    assert any("not bound" in p for p in problems)
    assert any("receipts: expected 1, database has 0" in p for p in problems)

    store.link_identity(resident, "telegram", "4242")
    store.record_receipt(notice, resident, "telegram", "acknowledged")
    run.plan = {resident: Scenario("not_reached", 1, "not_reached", None, {})}
    assert check_channel(store, run, campaign_id=1, notice_id=notice, questionnaire="daily_health")[0] == []


def test_demo_options() -> None:
    parser = build_parser()
    args = parser.parse_args(["demo"])
    assert (args.no_channels, args.telegram, args.wechat, args.calls, args.channels_grid) == (False, 10, 10, 3, "G02")
    args = parser.parse_args(["demo", "--no-channels", "--calls", "0", "--telegram", "2"])
    assert (args.no_channels, args.calls, args.telegram) == (True, 0, 2)
    with pytest.raises(SystemExit):
        parser.parse_args(["demo", "--calls", "-1"])
    with pytest.raises(SystemExit):
        parser.parse_args(["demo", "--wechat", "many"])


def test_a_grid_without_a_grid_worker_fails_the_check(store: Store, tmp_path: Path) -> None:
    store.ensure_grid("S01", "和平街道", "C01", "幸福社区", "G02", "第二网格")
    store.add_resident("G02", "幸福路1号", "测试", "+8613900000001", 1980, "zh")
    said: list[str] = []
    settings = Settings(home=tmp_path / "home", database_url="sqlite://", model_dir=tmp_path)
    assert asyncio.run(run_channels(store, None, settings, "G02", Sizes(), out=said.append)) is False  # type: ignore[arg-type]
    assert said == ["\nGrid G02 has no grid worker or no residents: the channels part cannot run."]
    assert store.latest_notice("G02", datetime.now(timezone.utc) - timedelta(days=1)) is None
