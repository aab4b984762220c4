"""The gridreach command: import residents, train the model, screen a grid, chat as a resident, report."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import warnings
from collections.abc import Sequence
from importlib.metadata import entry_points

from gridreach.errors import GridReachError
from gridreach.settings import Settings
from gridreach_app.channel_commands import _store, add_channel_commands

__all__ = ["main"]


def cmd_model(settings: Settings, args: argparse.Namespace) -> int:
    from gridreach_app.model import ensure_model

    path = ensure_model(settings.model_dir)
    print(f"Rasa model: {path}")
    return 0


def cmd_db_upgrade(settings: Settings, args: argparse.Namespace) -> int:
    _store(settings)
    print("Database schema is up to date.")
    return 0


def cmd_geography_load(settings: Settings, args: argparse.Namespace) -> int:
    from gridreach.residents_import import load_geography

    count = load_geography(_store(settings), args.file)
    print(f"Loaded {count} grids. Next: gridreach residents import FILE")
    return 0


def cmd_residents_import(settings: Settings, args: argparse.Namespace) -> int:
    from gridreach.residents_import import import_residents

    report = import_residents(_store(settings), args.file)
    print(report.format())
    return 0 if not report.refused else 3


def cmd_sample_load(settings: Settings, args: argparse.Namespace) -> int:
    from gridreach_app.sample import load_sample

    print(load_sample(_store(settings)))
    return 0


def cmd_report(settings: Settings, args: argparse.Namespace) -> int:
    from gridreach_app.report import format_summary

    store = _store(settings)
    campaigns = [args.campaign] if args.campaign else None
    print(format_summary(store.grid_summary(campaign_ids=campaigns)))
    return 0


def cmd_chat(settings: Settings, args: argparse.Namespace) -> int:
    from gridreach_app.chat import run_chat

    return asyncio.run(run_chat(settings, phone=args.phone, resident_id=args.resident, start=args.questionnaire))


def cmd_call(settings: Settings, args: argparse.Namespace) -> int:
    from gridreach_app.voice import run_call

    return asyncio.run(run_call(settings, phone=args.phone, resident_id=args.resident,
                                questionnaire=args.questionnaire, campaign=args.campaign))


def cmd_purge(settings: Settings, args: argparse.Namespace) -> int:
    from gridreach.store.retention import RetentionPolicy

    policy = RetentionPolicy.from_env(os.environ)
    trackers = args.trackers or _default_trackers(settings)
    report = _store(settings).purge(policy, tracker_url=trackers, dry_run=args.dry_run)
    verb = "将删除" if args.dry_run else "已删除"
    print(f"{verb}: 对话记录 {report.conversations} 段（{report.tracker_events} 条事件），"
          f"消息去重记录 {report.message_ids} 条，发件箱 {report.outbox} 条")
    print(f"保留期限: 对话 {policy.trackers_days} 天（活动结束后起算），去重记录 {policy.message_ids_days} 天，"
          f"发件箱 {policy.outbox_days} 天" + ("" if trackers else "；未找到对话存储（--trackers URL）"))
    return 0


def _default_trackers(settings: Settings) -> str | None:
    """The embedded runtime's tracker store, ``<home>/trackers.db``, when it exists."""
    path = settings.home / "trackers.db"
    return f"sqlite:///{path}" if path.is_file() else None


def cmd_nlu_report(settings: Settings, args: argparse.Namespace) -> int:
    from gridreach_app.nlu_report import write_report

    return write_report(settings)


def _drop_warning(*args: object, **kwargs: object) -> None:
    return None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gridreach", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("model", help="train the Rasa model if its inputs changed").set_defaults(func=cmd_model)
    db = sub.add_parser("db", help="database schema").add_subparsers(dest="db_command", required=True)
    db.add_parser("upgrade", help="create or migrate the schema").set_defaults(func=cmd_db_upgrade)

    geo = sub.add_parser("geography", help="streets, communities, grids").add_subparsers(dest="geo", required=True)
    p = geo.add_parser("load", help="load a geography YAML file")
    p.add_argument("file")
    p.set_defaults(func=cmd_geography_load)

    res = sub.add_parser("residents", help="the resident list").add_subparsers(dest="res", required=True)
    p = res.add_parser("import", help="import residents from CSV or XLSX; reports every refused row")
    p.add_argument("file")
    p.set_defaults(func=cmd_residents_import)

    sample = sub.add_parser("sample", help="the synthetic sample community").add_subparsers(dest="s", required=True)
    sample.add_parser("load", help="load 3 grids, ~1,300 residents").set_defaults(func=cmd_sample_load)

    p = sub.add_parser("report", help="per-grid completion and risk counts")
    p.add_argument("--campaign", type=int, help="only this campaign")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("chat", help="talk to the assistant in this terminal as a resident")
    who = p.add_mutually_exclusive_group()
    who.add_argument("--phone", help="the resident's phone number")
    who.add_argument("--resident", type=int, help="the resident's id")
    p.add_argument("--questionnaire", default="daily_health", help="start this questionnaire (default daily_health)")
    p.set_defaults(func=cmd_chat)

    p = sub.add_parser("call", help="phone one resident now (Twilio), run a questionnaire by voice, wait for the end")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--phone", help="the resident's phone number")
    who.add_argument("--resident", type=int, help="the resident's id")
    p.add_argument("--questionnaire", default="daily_health", help="questionnaire to run (default daily_health)")
    p.add_argument("--campaign", type=int, help="as part of this campaign (its questionnaire is used)")
    p.set_defaults(func=cmd_call)

    sub.add_parser("nlu-report", help="evaluate NLU on the held-out sets, write reports/nlu/").set_defaults(
        func=cmd_nlu_report
    )
    p = sub.add_parser("purge", help="delete what the retention policy no longer keeps (GRIDREACH_RETAIN_*_DAYS)")
    p.add_argument("--trackers", metavar="URL", help="Rasa's SQL tracker store (default: <home>/trackers.db)")
    p.add_argument("--dry-run", action="store_true", help="count what would be deleted, delete nothing")
    p.set_defaults(func=cmd_purge)
    add_channel_commands(sub)  # serve, notice, screen, code, robot add, groups
    for entry in entry_points(group="gridreach.commands"):  # commands of other installed packages (the demo)
        entry.load()(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _run(argv)
    except BrokenPipeError:
        # whoever read our output has gone (`gridreach groups | head`): stop quietly, as a command killed by
        # SIGPIPE does; the rest of the output goes nowhere instead of failing again when Python flushes at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + 13  # 141, the shell's status for a command ended by SIGPIPE


def _run(argv: Sequence[str] | None) -> int:
    # Rasa's usage telemetry would try to reach the internet from every process we start: off unless asked for.
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.umask(0o077)  # databases, trackers, logs and caches hold residents' data: readable by this user only
    args = build_parser().parse_args(argv)
    if not args.verbose:  # a grid worker's terminal shows GridReach's output, not library deprecations
        warnings.filterwarnings("ignore")
        warnings.showwarning = _drop_warning  # libraries (TensorFlow, Rasa) re-add their own filters
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    from gridreach_app.logs import install_redaction

    install_redaction()  # no message text, answer, phone number or token in any log line of any command
    try:
        settings = Settings.from_env()
        code = int(args.func(settings, args))
        sys.stdout.flush()  # a closed pipe shows here, where main can catch it, not at interpreter exit
        return code
    except GridReachError as exc:
        print(f"gridreach: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
