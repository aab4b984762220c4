"""`gridreach serve`: channel settings read once and refused by name; then the real thing, as a subprocess with the
trained model and its action server, against loopback fakes of Telegram, WeChat (safe mode) and WeCom: a webhook
update in → the question at the fake and the answer stored; an encrypted WeChat callback → an encrypted reply; a
worker's notice queued by the CLI → delivered by the running `serve`; SIGTERM → exit 0, action server gone."""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from campaigns import QUESTIONNAIRE_DIR
from campaigns.registry import load_and_register
from gridreach.errors import ConfigError
from gridreach.store import Store
from gridreach_app.action_server import free_port
from gridreach_app.channels_config import load_channels
from gridreach_app.cli import main
from gridreach_app.model import PROJECT_ROOT
from gridreach_app.model import model_path as current_model
from gridreach_fakes.telegram import FakeTelegram
from gridreach_fakes.wechat import FakeWeChat
from gridreach_fakes.wecom import FakeWeCom
from tests.conftest import BACKENDS, empty_database

TG_TOKEN, TG_BOT, TG_SECRET = "123456:serve-TEST_token", "gridreach_serve_bot", "serve-secret_1"
WX_TOKEN, WX_APP, WX_SECRET = "servetoken", "wxserve0123456789", "serve-app-secret"
AES_KEY = base64.b64encode(b"0123456789abcdef0123456789abcdef").decode().rstrip("=")
CORP, CORP_SECRET, ROBOT_KEY = "wwservecorp", "serve-corp-secret", "serve-robot-key-1"
GROUP, USER = -1005001, 5001
LONG_AGO = datetime(2000, 1, 1, tzinfo=timezone.utc)


# ---- channel settings ------------------------------------------------------------------------------------------
def test_nothing_configured_means_every_channel_off() -> None:
    config = load_channels({}, None)
    assert config.on == [] and (config.host, config.port) == ("127.0.0.1", 5005)


def test_channels_from_the_environment_each_on_when_set_and_no_secret_in_repr() -> None:
    env = {"GRIDREACH_TELEGRAM_TOKEN": TG_TOKEN, "GRIDREACH_TELEGRAM_BOT": TG_BOT, "GRIDREACH_TELEGRAM_MODE":
           "polling", "GRIDREACH_WECOM_ROBOTS": f"building-3={ROBOT_KEY}, building-4=k2", "GRIDREACH_SERVE_PORT": "0"}
    config = load_channels(env, None)
    assert config.on == ["telegram", "wecom"] and config.port == 0
    assert config.telegram is not None and config.telegram.mode == "polling"
    assert config.wecom is not None and dict(config.wecom.robot_keys) == {"building-3": ROBOT_KEY, "building-4": "k2"}
    shown = repr(config) + repr(config.telegram) + repr(config.wecom)
    assert TG_TOKEN not in shown and ROBOT_KEY not in shown


def test_a_yaml_file_with_env_references_and_rasa_section_names(tmp_path: Path) -> None:
    path = tmp_path / "credentials.yml"
    path.write_text(f"""
rest:
bots.telegram.TelegramInput:
  token: ${{TG}}
  bot_username: {TG_BOT}
  webhook_secret: {TG_SECRET}
  per_group: [10, 60.0]
wechat:
  app_id: {WX_APP}
  token: {WX_TOKEN}
  app_secret: ${{WX_SECRET}}
  encoding_aes_key: {AES_KEY}
""", encoding="utf-8")
    config = load_channels({"TG": TG_TOKEN, "WX_SECRET": WX_SECRET, "GRIDREACH_TELEGRAM_MODE": "polling"}, path)
    assert config.on == ["telegram", "wechat"] and config.source == str(path)
    assert config.telegram is not None and config.telegram.token == TG_TOKEN
    assert config.telegram.mode == "polling"  # the environment wins over the file
    assert config.telegram.per_group.count == 10
    assert config.wechat is not None and config.wechat.safe_mode and config.wechat.app_secret == WX_SECRET


@pytest.mark.parametrize("env, text, key", [
    ({"GRIDREACH_TELEGRAM_TOKEN": "nonsense", "GRIDREACH_TELEGRAM_BOT": TG_BOT}, None, "GRIDREACH_TELEGRAM_TOKEN"),
    ({"GRIDREACH_TELEGRAM_TOKEN": TG_TOKEN}, None, "GRIDREACH_TELEGRAM_BOT"),
    ({"GRIDREACH_TELEGRAM_TOKEN": TG_TOKEN, "GRIDREACH_TELEGRAM_BOT": TG_BOT}, None,
     "GRIDREACH_TELEGRAM_WEBHOOK_SECRET"),  # webhook mode needs the secret Telegram sends back
    ({"GRIDREACH_WECHAT_APP_ID": WX_APP, "GRIDREACH_WECHAT_TOKEN": WX_TOKEN}, None, "GRIDREACH_WECHAT_APP_SECRET"),
    ({"GRIDREACH_WECHAT_APP_ID": WX_APP, "GRIDREACH_WECHAT_TOKEN": WX_TOKEN, "GRIDREACH_WECHAT_APP_SECRET": "s",
      "GRIDREACH_WECHAT_AES_KEY": "short"}, None, "GRIDREACH_WECHAT_AES_KEY"),
    ({"GRIDREACH_WECOM_ROBOTS": "building-3"}, None, "GRIDREACH_WECOM_ROBOTS"),
    ({"GRIDREACH_WECOM_CORP_ID": CORP}, None, "GRIDREACH_WECOM_CORP_SECRET"),
    ({"GRIDREACH_VOICE_PUBLIC_URL": "https://voice.example.org"}, None, "GRIDREACH_TWILIO_ACCOUNT_SID"),
    ({"GRIDREACH_SERVE_PORT": "http"}, None, "GRIDREACH_SERVE_PORT"),
    ({}, "telegram:\n  token: ${NOT_SET_ANYWHERE}\n", "NOT_SET_ANYWHERE"),
    ({}, f"telegram:\n  token: {TG_TOKEN}\n  bot_username: {TG_BOT}\n  mode: polling\n  tokn: x\n",
     "channels.yml: telegram.tokn"),
    ({}, "wechat:\n  app_id: nope\n", "channels.yml: wechat.token (or GRIDREACH_WECHAT_TOKEN)"),
    ({}, f"wechat:\n  app_id: nope\n  token: {WX_TOKEN}\n  app_secret: x\n", "channels.yml: wechat.app_id"),
    ({}, "sms:\n  key: 1\n", "channels.yml: sms"),
    ({}, "telegram: [1, 2]\n", "channels.yml: telegram"),
    ({}, "telegram: {token: [\n", "channels.yml"),
])
def test_a_bad_channel_setting_is_refused_naming_its_key(tmp_path: Path, env: dict[str, str], text: str | None,
                                                         key: str) -> None:
    path = None
    if text is not None:
        path = tmp_path / "channels.yml"
        path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_channels(env, path)
    assert caught.value.key.endswith(key) or caught.value.key == key
    for value in env.values():
        if len(value) > 8:
            assert value not in str(caught.value) or value.startswith("https://")


def test_serve_with_no_channel_or_remote_without_a_url_stops_before_loading_anything(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    for name in [n for n in os.environ if n.startswith(("GRIDREACH_", "TELEGRAM_", "TWILIO_"))]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("GRIDREACH_HOME", str(tmp_path))
    assert main(["serve"]) == 2
    assert "none is configured" in capsys.readouterr().err
    monkeypatch.setenv("GRIDREACH_WECOM_ROBOTS", f"building-3={ROBOT_KEY}")
    assert main(["serve", "--remote"]) == 2
    assert "GRIDREACH_RASA_URL" in capsys.readouterr().err


# ---- the real thing -------------------------------------------------------------------------------------------
@dataclass
class Served:
    proc: subprocess.Popen[str]
    url: str
    store: Store
    db_url: str
    home: Path
    telegram: FakeTelegram
    wechat: FakeWeChat
    wecom: FakeWeCom
    env: dict[str, str]
    output: list[str]
    residents: dict[str, int]
    openid: str


def _children(pid: int) -> list[tuple[int, str]]:
    """(pid, command line) of the processes whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append((int(entry.name), cmdline))
    return found


def _seed(store: Store, openid: str) -> dict[str, int]:
    store.ensure_grid("S01", "和平街道", "C01", "幸福社区", "G01", "第一网格")
    store.add_grid_worker("G01", "王网格", "+8613800138000", "zh")
    people = {"telegram": store.add_resident("G01", "幸福小区1栋101", "张三", "+8613912340001", 1950, "zh"),
              "wechat": store.add_resident("G01", "幸福小区1栋102", "李四", "+8613912340002", 1960, "zh")}
    store.link_identity(people["telegram"], "telegram", str(USER))
    store.link_identity(people["wechat"], "wechat", openid)
    store.bind_group("telegram", str(GROUP), "G01", "幸福小区1栋", "worker:1")
    store.bind_group("wecom_robot", "building-3", "G01", "building-3", "operator")
    return people


def _wait_ready(proc: subprocess.Popen[str], output: list[str], timeout: float = 400.0) -> str:
    ready = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            output.append(line.rstrip("\n"))
            if line.startswith("Serving on "):
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    end = time.monotonic() + timeout
    while not ready.wait(0.5):
        if proc.poll() is not None or time.monotonic() > end:
            proc.kill()
            pytest.fail("serve did not start:\n" + "\n".join(output))
    return next(line for line in output if line.startswith("Serving on ")).split()[2]


@pytest.fixture(scope="module", params=BACKENDS)
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    if not current_model(PROJECT_ROOT / "models").exists():  # training belongs to `make model`, not to a test
        pytest.fail("no trained model for the current inputs: run `make model` first")
    home = tmp_path_factory.mktemp("serve-home")
    with empty_database(request.param, home) as db_url, FakeTelegram(TG_TOKEN, TG_BOT) as telegram:
        store = Store.from_url(db_url)
        store.migrate()
        openid = "o" + uuid.uuid4().hex[:27]
        residents = _seed(store, openid)
        telegram.group(GROUP, "幸福小区1栋")
        wechat = FakeWeChat(WX_TOKEN, WX_APP, WX_SECRET, AES_KEY)
        wecom = FakeWeCom(CORP, CORP_SECRET, robot_keys=(ROBOT_KEY,))
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GRIDREACH_", "TELEGRAM_", "TWILIO_"))}
        env.update({
            "GRIDREACH_HOME": str(home), "GRIDREACH_DATABASE_URL": db_url, "PYTHONPATH": str(PROJECT_ROOT),
            "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONUNBUFFERED": "1",
            "GRIDREACH_TELEGRAM_TOKEN": TG_TOKEN, "GRIDREACH_TELEGRAM_BOT": TG_BOT,
            "GRIDREACH_TELEGRAM_API_URL": telegram.base_url, "GRIDREACH_TELEGRAM_WEBHOOK_SECRET": TG_SECRET,
            "GRIDREACH_TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{port}/webhooks/telegram_gridreach/webhook",
            "GRIDREACH_WECHAT_APP_ID": WX_APP, "GRIDREACH_WECHAT_TOKEN": WX_TOKEN,
            "GRIDREACH_WECHAT_APP_SECRET": WX_SECRET, "GRIDREACH_WECHAT_AES_KEY": AES_KEY,
            "GRIDREACH_WECHAT_API_URL": wechat.api_url,
            "GRIDREACH_WECOM_ROBOTS": f"building-3={ROBOT_KEY}", "GRIDREACH_WECOM_API_URL": wecom.api_url,
        })
        output: list[str] = []
        log = (home / "serve.err").open("w")
        proc = subprocess.Popen([sys.executable, "-m", "gridreach_app.cli", "serve", "--port", str(port)],
                                cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=log, text=True)
        try:
            url = _wait_ready(proc, output)
            wechat.webhook_url = f"{url}/webhooks/wechat/webhook"
            yield Served(proc, url, store, db_url, home, telegram, wechat, wecom, env, output, residents, openid)
        finally:
            if proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=60)
            log.close()
            wechat.close()
            wecom.close()
            store.close()


def test_serve_says_which_channels_are_on(served: Served) -> None:
    text = "\n".join(served.output)
    assert f"telegram  on   webhook {served.url}/webhooks/telegram_gridreach/webhook" in text
    assert "wechat    on   callback" in text and "safe mode" in text
    assert "wecom     on   1 group robot(s) configured, app chats off" in text
    assert "off: voice (not configured)" in text
    assert TG_TOKEN not in text and ROBOT_KEY not in text and WX_SECRET not in text
    assert ("setWebhook", {"url": served.env["GRIDREACH_TELEGRAM_WEBHOOK_URL"]}) in [
        (m, {"url": p.get("url")}) for m, p in served.telegram.calls]


def test_a_telegram_update_gets_its_question_and_the_answer_is_stored(served: Served) -> None:
    fake, store = served.telegram, served.store
    questionnaires = load_and_register(store, QUESTIONNAIRE_DIR)
    q = questionnaires["daily_health"]
    campaign = store.create_campaign("排查", "G01", q.id, q.version, "test")
    user = fake.user(USER, "张三")
    assert fake.private_text(user, f"/start {store.campaign_token(campaign)}") == 200
    assert fake.wait_for(lambda: any("体温" in t for t in fake.texts(USER)), timeout=120), fake.texts(USER)
    assert fake.private_text(user, "37度5") == 200
    assert fake.wait_for(lambda: any("咳嗽" in t for t in fake.texts(USER)), timeout=120), fake.texts(USER)
    submission = store.latest_submission(served.residents["telegram"], "daily_health")
    assert submission is not None and submission.campaign_id == campaign and submission.channel == "telegram"
    assert submission.answers["temperature"].value == 37.5
    # a forged update (wrong secret) is refused and changes nothing
    assert fake.post_to_webhook({"update_id": 1, "message": {}}, secret="wrong") == 403


def test_a_wechat_callback_in_safe_mode_gets_an_encrypted_reply(served: Served) -> None:
    fake, store = served.wechat, served.store
    openid = served.openid
    assert store.resident_by_identity("wechat", openid).id == served.residents["wechat"]  # type: ignore[union-attr]
    delivery = fake.event(openid, "click", "SCREEN:daily_health")
    assert delivery.status == 200
    if delivery.text is None:  # slower than WeChat's 5 s: the reply came as a customer-service message
        deadline = time.monotonic() + 60
        while not fake.sent_to(openid) and time.monotonic() < deadline:
            time.sleep(0.1)
        text = " ".join(fake.sent_to(openid))
    else:
        text = delivery.text  # decrypted and its MsgSignature checked by the fake
    assert "体温" in text
    query, body = fake.signed(fake.message_xml(openid, "text", "<Content><![CDATA[37]]></Content><MsgId>7</MsgId>"))
    query["msg_signature"] = "0" * 40
    assert fake.post(query, body).status_code == 403


def test_a_notice_from_the_worker_cli_is_delivered_by_the_running_serve(
        served: Served, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    for name, value in served.env.items():
        if name.startswith("GRIDREACH_"):
            monkeypatch.setenv(name, value)
    assert main(["notice", "--grid", "G01", "--title", "停水通知", "明天9点到12点停水"]) == 0
    out = capsys.readouterr().out
    assert "telegram: 1 group(s)" in out and "wecom_robot: 1 group(s)" in out
    fake = served.telegram
    assert fake.wait_for(lambda: any("9点到12点停水" in t for t in fake.texts(GROUP)), timeout=60)
    deadline = time.monotonic() + 60
    while not served.wecom.robot_texts(ROBOT_KEY) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert any("停水通知" in t for t in served.wecom.robot_texts(ROBOT_KEY))
    notice = served.store.latest_notice("G01", LONG_AGO)
    assert notice is not None
    message = next(m for m in fake.messages(GROUP) if "9点到12点停水" in m.get("text", ""))
    fake.press(fake.user(USER, "张三"), message, f"n:{notice.id}")  # the resident taps 收到 in the group
    deadline = time.monotonic() + 60
    while not served.store.notice_receipts(notice.id) and time.monotonic() < deadline:
        time.sleep(0.1)
    (receipt,) = served.store.notice_receipts(notice.id)
    assert (receipt.resident_id, receipt.status) == (served.residents["telegram"], "acknowledged")


def test_sigterm_stops_everything_and_exits_0(served: Served) -> None:
    children = [pid for pid, cmd in _children(served.proc.pid) if "dialogs.actions.serve" in cmd]
    assert len(children) == 1, _children(served.proc.pid)
    served.proc.send_signal(signal.SIGTERM)
    assert served.proc.wait(timeout=90) == 0
    assert not Path(f"/proc/{children[0]}").exists()
    _wait_line(served.output, "GridReach serve stopped.")


# ---- --remote, polling, SIGINT, and a channel that cannot start (no model load: the dialogue is a fake Rasa) -----
class FakeRasa:
    """Rasa's REST channel on 127.0.0.1 (``POST /webhooks/rest/webhook``), answering every message with one text."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                outer.received.append(body)
                data = json.dumps([{"recipient_id": body["sender"], "text": "远程回答：" + body["message"]}],
                                  ensure_ascii=False).encode()
                self.send_response(200 if self.path == "/webhooks/rest/webhook" else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _remote_env(db_url: str, home: Path, rasa_url: str, telegram_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GRIDREACH_", "TELEGRAM_", "TWILIO_"))}
    env.update({"GRIDREACH_HOME": str(home), "GRIDREACH_DATABASE_URL": db_url, "PYTHONPATH": str(PROJECT_ROOT),
                "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONUNBUFFERED": "1",
                "GRIDREACH_RASA_URL": rasa_url, "GRIDREACH_TELEGRAM_TOKEN": TG_TOKEN,
                "GRIDREACH_TELEGRAM_BOT": TG_BOT, "GRIDREACH_TELEGRAM_MODE": "polling",
                "GRIDREACH_TELEGRAM_API_URL": telegram_url})
    return env


def test_remote_serve_polls_telegram_answers_through_rasa_rest_and_stops_on_sigint(
        store: Store, db_url: str, tmp_path: Path) -> None:
    resident = store.add_resident(*_one_grid(store), "张三", "+8613912340009", 1950, "zh")
    store.link_identity(resident, "telegram", str(USER))
    rasa = FakeRasa()
    with FakeTelegram(TG_TOKEN, TG_BOT) as fake:
        cmd = [sys.executable, "-m", "gridreach_app.cli", "serve", "--remote", "--port", "0"]
        env = _remote_env(db_url, tmp_path, rasa.url, fake.base_url)
        voice_port = free_port()  # and the voice webhooks, Twilio being configured (no call is placed here)
        env.update({"GRIDREACH_TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "GRIDREACH_TWILIO_AUTH_TOKEN": "twilio-token",
                    "GRIDREACH_VOICE_PUBLIC_URL": "https://voice.example.org", "GRIDREACH_VOICE_FROM": "+8657188888888",
                    "GRIDREACH_TWILIO_API_URL": "http://127.0.0.1:9", "GRIDREACH_VOICE_PORT": str(voice_port)})
        proc = subprocess.Popen(cmd, cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                text=True)
        output: list[str] = []
        try:
            _wait_ready(proc, output, timeout=120)
            assert any("telegram  on   polling" in line for line in output)
            assert any(f"voice     on   webhooks on 127.0.0.1:{voice_port}" in line for line in output)
            unsigned = httpx.post(f"http://127.0.0.1:{voice_port}/voice/twiml?attempt=1", data={"CallSid": "CA1"})
            assert unsigned.status_code == 403  # the voice app is live, and checks Twilio's signature
            fake.private_text(fake.user(USER, "张三"), "你好")  # queued for getUpdates: no webhook is set
            assert fake.wait_for(lambda: "远程回答：你好" in fake.texts(USER), timeout=60), fake.texts(USER)
            (body,) = rasa.received
            assert body["sender"] == "telegram:5001" and body["metadata"]["channel"] == "telegram"
            assert body["metadata"]["message_id"]  # what OnceOnly dedupes on
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=60) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
            rasa.close()
    _wait_line(output, "GridReach serve stopped.")


def _wait_line(output: list[str], line: str, timeout: float = 10.0) -> None:
    """The reader thread may still be reading the last lines of a process that has exited."""
    deadline = time.monotonic() + timeout
    while line not in output and time.monotonic() < deadline:
        time.sleep(0.05)
    assert line in output, output


def test_a_channel_that_cannot_connect_at_start_stops_serve_with_a_clear_error(
        store: Store, db_url: str, tmp_path: Path) -> None:
    _one_grid(store)
    dead = f"http://127.0.0.1:{free_port()}/bot"  # nothing listens there
    cmd = [sys.executable, "-m", "gridreach_app.cli", "serve", "--remote", "--port", "0"]
    done = subprocess.run(cmd, cwd=PROJECT_ROOT, env=_remote_env(db_url, tmp_path, "http://127.0.0.1:9", dead),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "gridreach: Telegram unavailable" in done.stderr and TG_TOKEN not in done.stderr + done.stdout
    with socket.socket() as taken:  # and a port someone else holds
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        cmd[-1] = str(taken.getsockname()[1])
        done = subprocess.run(cmd, cwd=PROJECT_ROOT, env=_remote_env(db_url, tmp_path, "http://127.0.0.1:9", dead),
                              capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and f"cannot listen on 127.0.0.1:{cmd[-1]}" in done.stderr


def _one_grid(store: Store) -> tuple[str, str]:
    store.ensure_grid("S01", "和平街道", "C01", "幸福社区", "G01", "第一网格")
    return "G01", "幸福小区1栋101"
