"""The chat-turn benchmark (bench/chat.py) in its tiny mode, on SQLite and PostgreSQL: both columns run through the
real stack (two `rasa run` servers, the action server, the fake Telegram), the JSON has its documented shape, and
every answered turn's answer is in the resident database. Speed is the benchmark's business, not checked here."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from gridreach_app.model import PROJECT_ROOT
from gridreach_app.model import model_path as current_model

COLUMNS = ("rasa_rest", "gridreach_telegram")


def _run_bench(*args: str, timeout: float = 1200) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run([sys.executable, "-m", "bench.chat", *args], cwd=PROJECT_ROOT,
                          env=env, capture_output=True, text=True, timeout=timeout)


def _latency(figures: Any) -> None:
    assert set(figures) == {"n", "p50", "p90", "p99", "max", "mean"}
    assert figures["n"] > 0 and 0 < figures["p50"] <= figures["p99"] <= figures["max"]


def test_tiny_run_writes_both_columns_and_stores_every_answer(db_url: str, tmp_path: Path) -> None:
    if not current_model(PROJECT_ROOT / "models").exists():  # training belongs to `make model`, not to a test
        pytest.fail("no trained model for the current inputs: run `make model` first")
    out = tmp_path / "chat.json"
    done = _run_bench("--tiny", "--database-url", db_url, "--out", str(out))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "rasa_rest" in done.stdout and "throughput ratio" in done.stdout  # the printed table
    result = json.loads(out.read_text(encoding="utf-8"))

    assert result["database"] == db_url.split(":", 1)[0]
    assert re.fullmatch(r"[0-9a-f]{40}", result["commit"])
    assert result["model"] == current_model(PROJECT_ROOT / "models").name
    assert "--tiny" in result["command"]
    machine = result["machine"]
    assert machine["cpu_count"] >= 1
    assert len(machine["load_average_before"]) == 3 and len(machine["load_average_after"]) == 3

    for name in COLUMNS:
        column = result["columns"][name]
        opened, closed = column["open_loop"], column["closed_loop"]
        assert opened["messages"] == result["settings"]["open_loop_messages"] and opened["errors"] == 0
        assert closed["turns"] == result["settings"]["closed_loop_turns"] and closed["errors"] == 0
        _latency(opened["latency_ms"])
        _latency(closed["latency_ms"])
        assert closed["messages_per_s"] > 0
        assert column["problems"] == {}
        for phase in (opened, closed):
            assert set(phase["cpu_ms_per_turn"]) >= {"rasa_server", "bench_and_fake"}
        stored = column["stored"]
        assert stored["ok"] is True
        assert stored["answers_stored"] == stored["answers_expected"] > 0
        assert stored["screenings_complete_in_db"] == stored["screenings_finished"]

    telegram = result["columns"]["gridreach_telegram"]["telegram_api"]
    assert telegram["turns"] == 2 * 12 and telegram["sendMessage"] >= telegram["turns"]  # a reply per turn at least
    assert set(telegram["rejected_by_cause"]) == {"per_chat", "overall", "other"}
    assert sum(telegram["rejected_by_cause"].values()) == telegram["rejected_429"]

    comparison = result["comparison"]
    ratio = comparison["throughput_ratio_gridreach_over_rasa"]
    assert ratio == pytest.approx(result["columns"]["gridreach_telegram"]["closed_loop"]["messages_per_s"]
                                  / result["columns"]["rasa_rest"]["closed_loop"]["messages_per_s"], rel=0.01)
    aims = comparison["aims"]
    assert aims["throughput_within_10pct_of_bare_rasa"]["met"] is (ratio >= 0.9)
    p99 = aims["p99_under_250ms_at_20_msgs_per_s"]
    assert p99["value_ms"] == result["columns"]["gridreach_telegram"]["open_loop"]["latency_ms"]["p99"]
    assert p99["met"] is False  # the tiny run offers 4 messages/s: it can never claim the 20 messages/s aim


@pytest.mark.parametrize(("args", "message"), [
    (["--database-url", "mysql://root@127.0.0.1/x"], "--database-url must be"),
    (["--rate", "0"], "--rate must be positive"),
    (["--concurrency", "-1"], "--concurrency must be positive"),
])
def test_bad_options_stop_before_anything_starts(args: list[str], message: str, tmp_path: Path) -> None:
    out = tmp_path / "chat.json"
    done = _run_bench(*args, "--out", str(out), timeout=120)
    assert done.returncode != 0 and message in done.stderr
    assert not out.exists()
