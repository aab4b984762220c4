"""The grid worker's commands (`gridreach notice / screen / code / robot add / groups`) on both databases, and
`--send-now` against the loopback fakes of Telegram and WeCom (real HTTP, the Bot API and WeCom's JSON)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from gridreach.store import Store
from gridreach_app.cli import main
from gridreach_fakes.telegram import FakeTelegram
from gridreach_fakes.wecom import FakeWeCom

GROUP_A, GROUP_B = -1001001, -1001002
ROBOT_KEY = "robot-key-b3-0001"
LONG_AGO = datetime(2000, 1, 1, tzinfo=timezone.utc)


@pytest.fixture
def env(store: Store, tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Store:
    """The CLI's environment on this test's database, no channel configured; grid G01 with a worker and a resident."""
    for name in [n for n in os.environ if n.startswith(("GRIDREACH_", "TELEGRAM_", "TWILIO_"))]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("GRIDREACH_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GRIDREACH_DATABASE_URL", db_url)
    store.ensure_grid("S01", "和平街道", "C01", "幸福社区", "G01", "第一网格")
    store.ensure_grid("S01", "和平街道", "C01", "幸福社区", "G02", "第二网格")
    store.add_grid_worker("G01", "王网格", "+8613800138000", "zh")
    store.add_resident("G01", "幸福小区1栋101", "张三", "+8613912345678", 1950, "zh")
    return store


@pytest.fixture
def telegram(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTelegram]:
    with FakeTelegram() as fake:
        fake.group(GROUP_A, "幸福小区1栋")
        fake.group(GROUP_B, "幸福小区2栋")
        monkeypatch.setenv("GRIDREACH_TELEGRAM_TOKEN", fake.token)
        monkeypatch.setenv("GRIDREACH_TELEGRAM_BOT", fake.username)
        monkeypatch.setenv("GRIDREACH_TELEGRAM_MODE", "polling")
        monkeypatch.setenv("GRIDREACH_TELEGRAM_API_URL", fake.base_url)
        yield fake


@pytest.fixture
def wecom(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeWeCom]:
    fake = FakeWeCom(robot_keys=(ROBOT_KEY,), chats=("wrchat01",))
    monkeypatch.setenv("GRIDREACH_WECOM_ROBOTS", f"building-3={ROBOT_KEY}")
    monkeypatch.setenv("GRIDREACH_WECOM_CORP_ID", fake.corp_id)
    monkeypatch.setenv("GRIDREACH_WECOM_CORP_SECRET", fake.corp_secret)
    monkeypatch.setenv("GRIDREACH_WECOM_API_URL", fake.api_url)
    yield fake
    fake.close()


def bind_all(store: Store) -> None:
    store.bind_group("telegram", str(GROUP_A), "G01", "幸福小区1栋", "worker:1")
    store.bind_group("telegram", str(GROUP_B), "G01", "幸福小区2栋", "worker:1")
    store.bind_group("wecom_appchat", "wrchat01", "G01", "三号楼群", "operator")


def test_a_notice_is_queued_once_per_group_and_sent_now_to_every_channel(
        env: Store, telegram: FakeTelegram, wecom: FakeWeCom, capsys: pytest.CaptureFixture[str]) -> None:
    bind_all(env)
    assert main(["robot", "add", "--grid", "G01", "--name", "building-3"]) == 0
    assert main(["notice", "--grid", "G01", "--title", "停水通知", "明天", "9点到12点停水"]) == 0
    out = capsys.readouterr().out
    notice = env.latest_notice("G01", since=LONG_AGO)
    assert notice is not None and notice.title == "停水通知" and notice.body == "明天 9点到12点停水"
    assert f"Notice #{notice.id} queued for grid G01" in out
    assert "telegram: 2 group(s)" in out and "wecom_robot: 1 group(s)" in out and "wecom_appchat: 1 group(s)" in out
    assert ROBOT_KEY not in out
    rows = env.list_outbound(status="pending")
    assert sorted((r.channel, r.target) for r in rows) == sorted(
        [("telegram", str(GROUP_A)), ("telegram", str(GROUP_B)), ("wecom_robot", "building-3"),
         ("wecom_appchat", "wrchat01")])
    assert telegram.texts(GROUP_A) == [] and wecom.robot_texts(ROBOT_KEY) == []  # queued, not sent yet

    # a second notice, sent from here: both notices go out, each once
    assert main(["notice", "--grid", "g01", "--send-now", "今晚核酸检测，请带身份证"]) == 0
    out = capsys.readouterr().out
    assert "telegram: 2 sent, 0 still queued, 0 failed" in out
    assert "wecom_robot: 1 sent" in out and "wecom_appchat: 1 sent" in out
    for chat in (GROUP_A, GROUP_B):
        texts = telegram.texts(chat)
        assert len(texts) == 2 and "9点到12点停水" in texts[0] and "今晚核酸检测" in texts[1]
        buttons = telegram.messages(chat)[1]["reply_markup"]["inline_keyboard"][0]
        assert buttons[0]["callback_data"].startswith("n:")  # the "received" button
    robot = wecom.robot_texts(ROBOT_KEY)
    assert len(robot) == 2 and "停水通知" in robot[0] and "今晚核酸检测" in robot[1]
    assert [m["chatid"] for m in wecom.appchat_messages["wrchat01"]] == ["wrchat01", "wrchat01"]
    assert env.list_outbound(status="pending") == [] and len(env.list_outbound(status="sent")) == 8


@pytest.mark.parametrize("argv, error", [
    (["notice", "--grid", "G01", "   "], "no text"),
    (["notice", "--grid", "G09", "停水"], "unknown grid 'G09'"),
    (["notice", "--grid", "G02", "停水"], "no group of grid G02 can receive a notice"),
    (["notice", "--grid", "G01", "长" * 3600], "at most 3500"),
])
def test_a_refused_notice_stores_and_queues_nothing(env: Store, telegram: FakeTelegram, argv: list[str],
                                                    error: str, capsys: pytest.CaptureFixture[str]) -> None:
    bind_all(env)
    assert main(argv) == 2
    assert error in capsys.readouterr().err
    assert env.list_outbound() == []
    assert env.latest_notice("G01", since=LONG_AGO) is None


def test_a_robot_without_a_configured_key_is_skipped_and_said(env: Store, telegram: FakeTelegram,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    env.bind_group("telegram", str(GROUP_A), "G01", "幸福小区1栋", "worker:1")
    env.bind_group("wecom_robot", "building-9", "G01", "building-9", "operator")  # its key was removed since
    assert main(["notice", "--grid", "G01", "停水"]) == 0
    out = capsys.readouterr().out
    assert "telegram: 1 group(s)" in out and "wecom_robot: 0 group(s), 1 skipped" in out
    assert "no webhook key configured for robot(s) building-9" in out
    assert [r.channel for r in env.list_outbound()] == ["telegram"]


def test_screen_creates_a_campaign_and_posts_its_deep_link(env: Store, telegram: FakeTelegram,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    bind_all(env)
    assert main(["screen", "--grid", "G01", "--send-now"]) == 0
    out = capsys.readouterr().out
    number = int(re.search(r"Campaign #(\d+)", out).group(1))  # type: ignore[union-attr]
    campaign = env.get_campaign(number)
    assert campaign is not None and campaign.questionnaire_id == "daily_health" and campaign.grid_code == "G01"
    token = env.campaign_token(number)
    link = f"https://t.me/{telegram.username}?start={token}"
    assert f"telegram: link {link}, queued for 2 group(s)" in out and f"CAMPAIGN:{token}" in out
    assert "telegram: 2 sent" in out
    for chat in (GROUP_A, GROUP_B):
        (message,) = telegram.messages(chat)
        assert message["reply_markup"]["inline_keyboard"][0][0]["url"] == link
    assert env.campaign_by_token(token).id == number  # type: ignore[union-attr]


def test_screen_without_telegram_still_gives_the_campaign_and_an_unknown_questionnaire_is_refused(
        env: Store, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["screen", "--grid", "G01", "--questionnaire", "no_such_thing"]) == 2
    err = capsys.readouterr().err
    assert "unknown questionnaire 'no_such_thing'" in err and "daily_health" in err
    assert main(["screen", "--grid", "G01", "--questionnaire", "traveller"]) == 0
    out = capsys.readouterr().out
    assert "telegram: not configured here, no link posted" in out
    number = int(re.search(r"Campaign #(\d+)", out).group(1))  # type: ignore[union-attr]
    assert env.get_campaign(number).questionnaire_id == "traveller"  # type: ignore[union-attr]
    assert env.list_outbound() == []


def test_code_is_printed_once_and_binds_the_resident_once(env: Store, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["code", "--phone", "13912345678"]) == 0
    out = capsys.readouterr().out
    code = re.search(r"One-time code for 张三 \(#\d+, grid G01, [^)]+\): (\d{8})", out).group(1)  # type: ignore
    assert "13912345678 " + code in out and "+8613912345678" not in out  # the phone is masked in the header
    resident = env.redeem_link_code(code, "telegram", "5001")
    assert resident.name == "张三" and env.resident_by_identity("telegram", "5001") == resident
    assert main(["code", "--phone", "13900000000"]) == 2
    assert "no resident with this phone number" in capsys.readouterr().err


def test_a_grid_workers_code_binds_on_wechat_with_the_phone_and_only_in_their_grid(
        env: Store, capsys: pytest.CaptureFixture[str]) -> None:
    from bots.wechat.binding import Binder, parse_binding

    env.add_grid_worker("G02", "李网格", "+8613800138002", "zh")
    assert main(["code", "--phone", "13912345678", "--worker", "13800138002"]) == 2  # not their grid
    assert "no resident of grid G02" in capsys.readouterr().err
    assert main(["code", "--phone", "13912345678", "--worker", "13800138000"]) == 0
    out = capsys.readouterr().out
    code = re.search(r": (\d{8})\n", out).group(1)  # type: ignore[union-attr]
    assert "phone number and the code together" in out
    request = parse_binding(f"13912345678 {code}")  # what the resident types into the WeChat account
    assert request is not None
    bound = Binder(env).bind("o-resident", request)
    assert bound.ok and bound.resident is not None and bound.resident.name == "张三"
    issued = [e for e in env.audit_entries("resident", bound.resident.id) if e.action == "link_code_issued"]
    worker = env.find_grid_worker_by_phone("13800138000")
    assert worker is not None and issued[-1].actor == f"worker:{worker.id}"


def test_robot_add_binds_a_configured_robot_and_groups_shows_every_group_and_its_state(
        env: Store, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["groups"]) == 0
    assert "No group is bound" in capsys.readouterr().out
    monkeypatch.setenv("GRIDREACH_WECOM_ROBOTS", f"building-3={ROBOT_KEY},building-4=robot-key-b4")
    assert main(["robot", "add", "--grid", "G01", "--name", "building-7"]) == 2
    err = capsys.readouterr().err
    assert "GRIDREACH_WECOM_ROBOTS" in err and "building-7" in err and ROBOT_KEY not in err
    assert main(["robot", "add", "--grid", "G01", "--name", "building-3"]) == 0
    assert "WeCom robot building-3 now serves grid G01" in capsys.readouterr().out
    env.bind_group("telegram", str(GROUP_A), "G01", "幸福小区1栋", "worker:1")
    env.bind_group("telegram", "-1009", "G02", "旧群", "worker:1")
    env.deactivate_group("telegram", "-1009", "the bot was removed from the group")
    assert main(["notice", "--grid", "G01", "停水"]) == 0
    capsys.readouterr()
    assert main(["groups"]) == 0
    lines = capsys.readouterr().out.splitlines()
    robot = next(line for line in lines if "building-3" in line).split()
    assert robot[:6] == ["G01", "wecom_robot", "building-3", "active", "1", "0"]
    tg = next(line for line in lines if str(GROUP_A) in line)
    assert tg.split()[:6] == ["G01", "telegram", str(GROUP_A), "active", "1", "0"]
    assert "Telegram not configured here" in tg
    assert next(line for line in lines if "-1009" in line).split()[3] == "inactive"
    assert main(["groups", "--grid", "G02"]) == 0
    only = capsys.readouterr().out
    assert "-1009" in only and "building-3" not in only
    assert ROBOT_KEY not in only


def test_a_bad_channel_setting_stops_the_command_naming_the_variable(
        env: Store, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("GRIDREACH_TELEGRAM_TOKEN", "not-a-token")
    monkeypatch.setenv("GRIDREACH_TELEGRAM_BOT", "gridreach_bot")
    assert main(["groups"]) == 2
    err = capsys.readouterr().err
    assert "GRIDREACH_TELEGRAM_TOKEN" in err and "not-a-token" not in err


def test_groups_piped_into_head_ends_quietly(env: Store) -> None:
    """`gridreach groups | head -1`: head leaves after one line; the rest of the listing (more than a pipe holds)
    meets a closed pipe, and the command stops without a BrokenPipeError traceback."""
    for i in range(120):  # ~100 KB of listing, long titles (3 bytes a character) keeping the binds few
        env.bind_group("telegram", str(-1002000000 - i), "G01", f"{i:03d}" + "幸福小区居民群" * 39, "worker:1")
    root = Path(__file__).resolve().parents[2]
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))}
    command = subprocess.Popen([sys.executable, "-m", "gridreach_app.cli", "groups"], cwd=root, env=environment,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    head = subprocess.run(["head", "-1"], stdin=command.stdout, capture_output=True, text=True, timeout=120)
    assert command.stdout is not None and command.stderr is not None
    command.stdout.close()
    err = command.stderr.read().decode()
    assert command.wait(timeout=120) == 141, err
    assert head.stdout.split()[:2] == ["grid", "channel"]
    assert "Traceback" not in err and "BrokenPipeError" not in err and "Exception ignored" not in err, err
