"""Chat-turn benchmark (issue 3): the Telegram connector side by side with bare ``rasa run`` REST, in one run.

Run from the project root: ``.venv/bin/python bench/chat.py`` (``--database-url postgresql://...`` for PostgreSQL,
``--tiny`` for a smoke run). Results go to ``bench/results/chat.json``; a short table is printed.

Both columns use the same trained model, the same action server (``dialogs.actions``, one subprocess) and the same
kind of database (the resident database, and one SQL tracker store per column):

* ``rasa_rest``: ``python -m rasa run --enable-api`` with ``rest:`` only; a turn is ``POST /webhooks/rest/webhook``
  until the reply (the next question) is back in the response body.
* ``gridreach_telegram``: ``python -m rasa run --enable-api`` with ``bots.telegram.TelegramInput`` loaded by module
  path from its ``credentials.yml``, its Bot API base URL pointing at the fake Telegram of ``gridreach_fakes`` (served by
  this process, with Telegram's real limits: 1 message/s per chat, 30/s overall). A turn is the Update POSTed to
  ``/webhooks/telegram_gridreach/webhook`` until the bot's reply has reached the fake (``sendMessage``): the webhook
  answers once the connector has sent its replies, and the fake's record of the chat is checked.

Each simulated resident is a resident of the database (for Telegram, their own private chat, bound to their record
beforehand) doing a whole daily-health screening, in Chinese or English, typed answers, reading each question for
``--think`` seconds (1 s: at most ~1 message/s per chat). Two loads per column, in the order REST open, Telegram
open, Telegram closed, REST closed (so that a drift in the machine's background load favours neither column):

* open loop: Poisson arrivals at ``--rate`` messages/s (seeded: the same schedule for both columns). An arrival is the
  next message of a resident who is ready (reply received, think time over), else the start of a new screening
  (at most ``3 s x rate`` residents at once; when all are busy the arrival waits). Latency runs from the scheduled
  arrival, so queueing in the server shows.
* closed loop: ``--concurrency`` residents answering as soon as they may, for ``--closed-turns`` turns; throughput is
  the completion rate between the 10th and the 90th percentile completion (no ramp-up or tail).

Every answer whose turn was answered must be stored in the resident database (checked per column at the end). CPU
milliseconds per turn of each process (the Rasa server, the action server, this process with the fake) show where
the time goes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent  # run as `python -m bench.chat` from the project root
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import httpx  # noqa: E402

from bench.chat_load import (  # noqa: E402
    Column,
    Resident,
    RestColumn,
    TelegramColumn,
    TimedFake,
    closed_loop,
    latency_summary,
    open_loop,
    open_loop_residents,
    warm_up,
)
from campaigns import QUESTIONNAIRE_DIR  # noqa: E402
from campaigns.registry import load_and_register  # noqa: E402
from gridreach.settings import Settings  # noqa: E402
from gridreach.store import Store  # noqa: E402
from gridreach.views import NewResident  # noqa: E402
from gridreach_app.action_server import ActionServer, free_port  # noqa: E402
from gridreach_app.model import PROJECT_ROOT, ensure_model  # noqa: E402
from gridreach_fakes.telegram import FakeTelegram  # noqa: E402

__all__ = ["main"]

COLUMNS = ("rasa_rest", "gridreach_telegram")
# A-B-B-A: a drift in the machine's background load favours neither column
ORDER = [("open_loop", "rasa_rest"), ("open_loop", "gridreach_telegram"),
         ("open_loop_light", "gridreach_telegram"), ("open_loop_light", "rasa_rest"),
         ("closed_loop", "rasa_rest"), ("closed_loop", "gridreach_telegram")]
GRID, SECRET, HOOK_PATH = "B01", "bench-secret_1", "/webhooks/telegram_gridreach/webhook"
AIM_RATIO, AIM_P99_MS, AIM_RATE = 0.90, 250.0, 20.0


# ---- databases and processes ---------------------------------------------------------------------------------
def _pg_admin(url: str, *statements: str) -> None:
    import psycopg2

    conn = psycopg2.connect(url.split("?", 1)[0].replace("postgresql+psycopg2://", "postgresql://"),
                            connect_timeout=5)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            for sql in statements:
                cur.execute(sql)
    finally:
        conn.close()


@contextmanager
def databases(database_url: str | None, home: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """The resident database URL and each column's ``tracker_store`` section. With PostgreSQL a schema of its own
    (in the given database) and one tracker database per column are made, and dropped afterwards."""
    if not database_url:
        database_url = f"sqlite:///{home / 'gridreach.db'}"
    if database_url.startswith("sqlite"):
        yield database_url, {c: f"tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: {home / f'trackers-{c}.db'}\n"
                             for c in COLUMNS}
        return
    if not database_url.startswith("postgresql"):
        raise SystemExit("--database-url must be sqlite:///FILE or postgresql://USER@HOST:PORT/DB")
    parts, tag = urlsplit(database_url), os.urandom(4).hex()
    schema, dbs = f"bench_{tag}", {c: f"bench_trackers_{tag}_{c}" for c in COLUMNS}
    _pg_admin(database_url, f'CREATE SCHEMA "{schema}"', *(f'CREATE DATABASE "{d}"' for d in dbs.values()))
    password = f"  password: {parts.password}\n" if parts.password else ""
    try:
        yield f"{database_url.split('?', 1)[0]}?options=-csearch_path%3D{schema}", {
            c: f"tracker_store:\n  type: SQL\n  dialect: postgresql\n  url: {parts.hostname or '127.0.0.1'}\n"
               f"  port: {parts.port or 5432}\n  db: {d}\n  username: {parts.username or 'postgres'}\n{password}"
            for c, d in dbs.items()}
    finally:
        _pg_admin(database_url, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE',
                  *(f'DROP DATABASE IF EXISTS "{d}" WITH (FORCE)' for d in dbs.values()))


def seed(store: Store, per_column: int) -> tuple[int, str, dict[str, list[Resident]]]:
    """The grid, the campaign and its deep-link token, and each column's residents (the Telegram ones bound)."""
    store.migrate()
    store.ensure_grid("S01", "和平街道", "C01", "幸福社区", GRID, "压测网格")
    q = load_and_register(store, QUESTIONNAIRE_DIR)["daily_health"]
    campaign = store.create_campaign("bench", GRID, q.id, q.version, "bench")
    pools: dict[str, list[Resident]] = {}
    for n, column in enumerate(COLUMNS):
        langs = ["zh" if i % 2 == 0 else "en" for i in range(per_column)]
        ids = store.add_residents([NewResident(GRID, f"压测路{n}-{i}号", f"居民{n}-{i}", f"+86139{n}{i:07d}",
                                               1950 + i % 50, lang) for i, lang in enumerate(langs)])
        pools[column] = [Resident(rid, lang, 7_000_000 + rid) for rid, lang in zip(ids, langs, strict=True)]
    for r in pools["gridreach_telegram"]:
        store.link_identity(r.id, "telegram", str(r.user_id))
    return campaign, store.campaign_token(campaign), pools


def _cpu(pid: int) -> float:
    """CPU seconds (user + system) the process has used so far (0.0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _child_pid(marker: str) -> int | None:
    """The child process of this one whose command line contains ``marker``."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == os.getpid() and \
                    marker in (stat.parent / "cmdline").read_bytes().decode(errors="replace"):
                return int(stat.parent.name)
        except (OSError, IndexError, ValueError):
            continue
    return None


def start_rasa(stack: ExitStack, model: Path, home: Path, column: str, port: int, endpoints: str,
               credentials: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    (home / f"endpoints-{column}.yml").write_text(endpoints, encoding="utf-8")
    (home / f"credentials-{column}.yml").write_text(credentials, encoding="utf-8")
    cmd = [sys.executable, "-m", "rasa", "run", "--enable-api", "--quiet", "-m", str(model), "--port", str(port),
           "-i", "127.0.0.1", "--endpoints", str(home / f"endpoints-{column}.yml"),
           "--credentials", str(home / f"credentials-{column}.yml")]
    log = stack.enter_context((home / f"rasa-{column}.log").open("wb"))
    proc = subprocess.Popen(cmd, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT, env=env)
    stack.callback(_stop, proc)
    return proc


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 600.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"rasa run exited at start:\n{log.read_text(errors='replace')[-2000:]}")
        try:
            if httpx.get(f"{url}/status", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"rasa run at {url} did not start within {timeout:.0f} s:\n{log.read_text(errors='replace')[-2000:]}")


# ---- the run -------------------------------------------------------------------------------------------------
def check_stored(store: Store, residents: list[Resident]) -> dict[str, Any]:
    """Every answer whose turn was answered is in the database; every finished screening is complete there."""
    stored = complete = 0
    for r in residents:
        submission = store.latest_submission(r.id, "daily_health")
        if submission is not None:
            stored += len(submission.answers)
            complete += submission.status == "complete"
    expected, finished = sum(r.answered for r in residents), sum(r.finished for r in residents)
    return {"answers_expected": expected, "answers_stored": stored, "screenings_finished": finished,
            "screenings_complete_in_db": complete, "ok": stored == expected and complete == finished}


async def measure(column: Column, pool: Iterator[Resident], phase: str, args: argparse.Namespace,
                  pids: dict[str, int]) -> dict[str, Any]:
    """One load (``open_loop`` or ``closed_loop``) on one column, with the CPU each process spent per turn."""
    cpu0, bench0 = {name: _cpu(pid) for name, pid in pids.items()}, time.process_time()
    if phase.startswith("open_loop"):
        rate, count = (args.rate, args.open_messages) if phase == "open_loop" else (args.light_rate, args.light_messages)
        samples, figures = await open_loop(column, pool, rate, count, args.think, args.seed)
    else:
        samples, figures = await closed_loop(column, pool, args.concurrency, args.closed_turns, args.think)
    turns = max(1, len(samples))
    cpu = {name: round((_cpu(pid) - cpu0[name]) * 1000 / turns, 1) for name, pid in pids.items()}
    cpu["bench_and_fake"] = round((time.process_time() - bench0) * 1000 / turns, 1)
    ok = [s for s in samples if s.ok]
    result = {**figures, "latency_ms": latency_summary(ok),
              "latency_ms_by_turn": {kind: latency_summary([s for s in ok if s.kind == kind])
                                     for kind in ("start", "answer", "last")},
              "errors": len(samples) - len(ok), "cpu_ms_per_turn": cpu}
    print(f"  {column.name} {phase}: latency {json.dumps(result['latency_ms'])}"
          + (f", {figures['messages_per_s']} messages/s" if phase == "closed_loop" else ""), flush=True)
    return result


def _fake_counts(fake: FakeTelegram) -> dict[str, int]:
    with fake.lock:
        counts = {m: sum(1 for name, _ in fake.calls if name == m) for m in ("sendMessage", "editMessageReplyMarkup")}
        counts["rejected_429"] = sum(1 for _, code, _ in fake.rejected if code == 429)
        return counts


def run(args: argparse.Namespace) -> dict[str, Any]:
    started, load_before = datetime.now(timezone.utc), os.getloadavg()
    model = ensure_model(PROJECT_ROOT / "models", quiet=True)  # the cached model only: never trains here
    per_column = int((args.open_messages + args.light_messages + args.closed_turns) / 7 + args.warmup + args.concurrency
                     + open_loop_residents(args.rate) + 20)
    with tempfile.TemporaryDirectory(prefix="gridreach-bench-chat-") as tmp, ExitStack() as stack:
        home = Path(tmp)
        db_url, trackers = stack.enter_context(databases(args.database_url, home))
        store = Store.from_url(db_url)
        stack.callback(store.close)
        campaign, token, pools = seed(store, per_column)
        actions = stack.enter_context(ActionServer(Settings(home=home, database_url=db_url), port=free_port()))
        fake = TimedFake(token="424242:bench-token", username="gridreach_bench_bot")
        stack.enter_context(fake)
        env = {**os.environ, "GRIDREACH_DATABASE_URL": db_url, "GRIDREACH_HOME": str(home),
               "TF_CPP_MIN_LOG_LEVEL": "3", "RASA_TELEMETRY_ENABLED": "false",
               "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")]))}
        ports = {c: free_port() for c in COLUMNS}
        urls = {c: f"http://127.0.0.1:{ports[c]}" for c in COLUMNS}
        hook = urls["gridreach_telegram"] + HOOK_PATH
        credentials = {
            "rasa_rest": "rest:\n",
            "gridreach_telegram": f"bots.telegram.TelegramInput:\n  token: {fake.token}\n"
                                  f"  bot_username: {fake.username}\n  base_url: {fake.base_url}\n  mode: webhook\n"
                                  f"  webhook_url: {hook}\n  webhook_secret: {SECRET}\n"}
        procs = {c: start_rasa(stack, model, home, c, ports[c], f'action_endpoint:\n  url: "{actions.url}"\n'
                               f"{trackers[c]}", credentials[c], env) for c in COLUMNS}
        for c in COLUMNS:
            wait_ready(urls[c], procs[c], home / f"rasa-{c}.log")
        if not fake.wait_for(lambda: fake.webhook.get("url") == hook, timeout=120):
            raise SystemExit("the Telegram connector did not register its webhook with the fake")
        columns: dict[str, Column] = {"rasa_rest": RestColumn(urls["rasa_rest"], campaign),
                                      "gridreach_telegram": TelegramColumn(fake, hook, SECRET, token)}
        action_pid = _child_pid("rasa_sdk")

        async def both() -> dict[str, Any]:
            out: dict[str, Any] = {name: {} for name in COLUMNS}
            pids = {name: {"rasa_server": procs[name].pid, **({"action_server": action_pid} if action_pid else {})}
                    for name in COLUMNS}
            residents = {name: iter(pools[name]) for name in COLUMNS}
            before = _fake_counts(fake)
            try:
                for name in COLUMNS:
                    await warm_up(columns[name], residents[name], args.warmup)
                for phase, name in [(p, n) for p, n in ORDER if p != "open_loop_light" or args.light_rate > 0]:
                    out[name][phase] = await measure(columns[name], residents[name], phase, args, pids[name])
            finally:
                for column in columns.values():
                    await column.close()
            after = _fake_counts(fake)
            turns = sum(r.step + r.failed for r in pools["gridreach_telegram"])
            calls = {k: after[k] - before[k] for k in after}
            out["gridreach_telegram"]["telegram_api"] = {
                **calls, "rejected_by_cause": fake.refusals(), "turns": turns,
                "messages_per_turn": round(calls["sendMessage"] / max(1, turns), 3)}
            for name in COLUMNS:
                out[name]["problems"] = dict(columns[name].problems)
            return out

        print(f"measuring {', '.join(COLUMNS)} (database: {db_url.split(':', 1)[0]}) …", flush=True)
        measured = asyncio.run(both())
        for name in COLUMNS:
            measured[name]["stored"] = check_stored(store, [r for r in pools[name] if r.step or r.failed])
    return report(args, measured, model, started, load_before)


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def report(args: argparse.Namespace, measured: dict[str, Any], model: Path, started: datetime,
           load_before: tuple[float, float, float]) -> dict[str, Any]:
    rest, ours = measured["rasa_rest"], measured["gridreach_telegram"]
    x_rest, x_ours = rest["closed_loop"]["messages_per_s"], ours["closed_loop"]["messages_per_s"]
    ratio = round(x_ours / x_rest, 3) if x_rest and x_ours else None
    p99 = (ours["open_loop"]["latency_ms"] or {}).get("p99")
    return {
        "benchmark": "chat turn (issue 3)",
        "turn": "a resident's message in (webhook POST) -> the bot's reply for it out (REST: the response body; "
                "Telegram: sendMessage received by the fake Bot API) with the answer stored in the resident database",
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "commit": _git("rev-parse", "HEAD"), "uncommitted_changes": bool(_git("status", "--porcelain")),
        "model": model.name, "database": args.database_url.split(":", 1)[0] if args.database_url else "sqlite",
        "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "load_average_before": [round(x, 2) for x in load_before],
                    "load_average_after": [round(x, 2) for x in os.getloadavg()]},
        "settings": {"open_loop_rate": args.rate, "open_loop_messages": args.open_messages,
                     "open_loop_light_rate": args.light_rate, "open_loop_light_messages": args.light_messages,
                     "closed_loop_concurrency": args.concurrency, "closed_loop_turns": args.closed_turns,
                     "think_s": args.think, "warmup_screenings": args.warmup, "seed": args.seed,
                     "telegram_limits": "Telegram's real ones, in the connector and in the fake: 1 message/s per "
                                        "chat, 20/min per group, 30/s overall",
                     "answers": "typed, daily_health, half in Chinese (9 turns), half in English (8 turns)"},
        "columns": measured,
        "notes": notes(args, measured),
        "comparison": {
            "throughput_ratio_gridreach_over_rasa": ratio,
            "aims": {
                "throughput_within_10pct_of_bare_rasa": {"aim": f"ratio >= {AIM_RATIO}", "value": ratio,
                                                         "met": ratio is not None and ratio >= AIM_RATIO},
                "p99_under_250ms_at_20_msgs_per_s": {
                    "aim": f"gridreach_telegram open-loop p99 < {AIM_P99_MS:g} ms at {AIM_RATE:g} messages/s",
                    "offered_rate": args.rate, "value_ms": p99,
                    "met": p99 is not None and p99 < AIM_P99_MS and args.rate >= AIM_RATE},
            },
        },
    }


def _p(phase: dict[str, Any] | None, key: str, kind: str | None = None) -> Any:
    if not phase:
        return None
    figures = phase["latency_ms"] if kind is None else phase["latency_ms_by_turn"][kind]
    return (figures or {}).get(key)


def notes(args: argparse.Namespace, measured: dict[str, Any]) -> list[str]:
    """What the figures say, in words, from the figures themselves."""
    rest, ours = measured["rasa_rest"], measured["gridreach_telegram"]
    said: list[str] = []
    x_rest = rest["closed_loop"]["messages_per_s"]
    if x_rest and x_rest < args.rate:
        said.append(f"One `rasa run` process carried {x_rest:g} messages/s on this machine (closed loop, bare REST), "
                    f"below the {args.rate:g} messages/s offered: both columns queue at that rate and its latency "
                    f"measures the queue; the light open loop shows the latency of an unsaturated server.")
    api = ours.get("telegram_api") or {}
    if api.get("messages_per_turn", 0) > 1:
        light = ours.get("open_loop_light") or ours["open_loop"]
        said.append(f"The connector sends {api['messages_per_turn']:g} Telegram messages per turn on average: a "
                    f"screening's first turn is two (the introduction, then the first question) and Telegram's "
                    f"1 message/s per chat holds the second for a second (start turns p50 "
                    f"{_p(light, 'p50', 'start')} ms, answer turns p50 {_p(light, 'p50', 'answer')} ms).")
    if api.get("rejected_429"):
        said.append(f"The fake Telegram answered {api['rejected_429']} sendMessage calls with 429 (each costs "
                    f"retry_after, at least 1 s).")
    return said


def table(result: dict[str, Any]) -> str:
    rows: list[tuple[str, ...]] = [("", *COLUMNS)]
    cols = [result["columns"][c] for c in COLUMNS]

    def cell(value: Any) -> str:
        return "-" if value is None else f"{value:g}" if isinstance(value, float) else str(value)

    settings = result["settings"]
    lines: list[tuple[str, Any]] = []
    for phase, rate in (("open_loop", settings["open_loop_rate"]), ("open_loop_light", settings["open_loop_light_rate"])):
        if all(phase in c for c in cols):
            lines += [(f"open loop {rate:g} msg/s p50 / p99 ms", lambda c, ph=phase: f"{cell(_p(c[ph], 'p50'))} / "
                                                                                   f"{cell(_p(c[ph], 'p99'))}"),
                      ("  answer turns p50 / p99 ms", lambda c, ph=phase: f"{cell(_p(c[ph], 'p50', 'answer'))} / "
                                                                          f"{cell(_p(c[ph], 'p99', 'answer'))}"),
                      ("  start turns p50 ms", lambda c, ph=phase: _p(c[ph], "p50", "start"))]
    lines += [("closed loop msg/s", lambda c: c["closed_loop"]["messages_per_s"]),
              ("closed loop p50 ms", lambda c: _p(c["closed_loop"], "p50")),
              ("Rasa server CPU ms/turn", lambda c: c["closed_loop"]["cpu_ms_per_turn"]["rasa_server"]),
              ("errors", lambda c: sum(c[ph]["errors"] for ph in ("open_loop", "open_loop_light", "closed_loop")
                                       if ph in c)),
              ("answers stored / expected", lambda c: f"{c['stored']['answers_stored']}/"
                                                      f"{c['stored']['answers_expected']}")]
    for label, get in lines:
        rows.append((label, *(cell(get(c)) for c in cols)))
    widths = [max(len(str(r[i])) for r in rows) for i in range(3)]
    out = ["  ".join(str(v).ljust(w) for v, w in zip(r, widths, strict=True)) for r in rows]
    comparison = result["comparison"]
    out.append(f"throughput ratio gridreach/rasa: {cell(comparison['throughput_ratio_gridreach_over_rasa'])}")
    for name, aim in comparison["aims"].items():
        out.append(f"aim {name}: {'met' if aim['met'] else 'NOT met'}")
    return "\n".join(out + [f"note: {n}" for n in result["notes"]])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--database-url", help="postgresql://USER@HOST:PORT/DB (a schema and tracker databases of "
                                               "the benchmark's own are made there and dropped); default SQLite files")
    parser.add_argument("--rate", type=float, default=20.0, help="open loop: offered messages/s (Poisson)")
    parser.add_argument("--open-messages", type=int, default=400, help="open loop: messages per column")
    parser.add_argument("--light-rate", type=float, default=3.0, help="a second open loop below saturation (0: none)")
    parser.add_argument("--light-messages", type=int, default=240, help="messages per column at --light-rate")
    parser.add_argument("--concurrency", type=int, default=32, help="closed loop: residents at once")
    parser.add_argument("--closed-turns", type=int, default=480, help="closed loop: turns per column")
    parser.add_argument("--think", type=float, default=1.0, help="seconds a resident reads a question")
    parser.add_argument("--warmup", type=int, default=2, help="unmeasured screenings per column first")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--tiny", action="store_true", help="a smoke run: a few messages per column (tests)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "chat.json")
    args = parser.parse_args(argv)
    if args.tiny:
        args.rate, args.open_messages, args.concurrency, args.closed_turns, args.warmup = 4.0, 12, 3, 12, 0
        args.light_rate = 0.0
    for name in ("rate", "open_messages", "concurrency", "closed_turns"):
        if getattr(args, name) <= 0:
            parser.error(f"--{name.replace('_', '-')} must be positive")
    if args.light_rate < 0 or args.light_messages <= 0:
        parser.error("--light-rate must not be negative and --light-messages must be positive")
    if args.database_url and not args.database_url.startswith(("sqlite:///", "postgresql://", "postgresql+")):
        parser.error("--database-url must be sqlite:///FILE or postgresql://USER@HOST:PORT/DB")
    result = run(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(table(result))
    print(f"written {args.out}")
    broken = [c for c in COLUMNS if not result["columns"][c]["stored"]["ok"]]
    if broken:
        print(f"answers missing from the database in: {', '.join(broken)}", file=sys.stderr)
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
