"""The grid worker's and operator's channel commands: `serve`, `notice`, `screen`, `code`, `robot add`, `groups`.

Registered on the `gridreach` parser by ``add_channel_commands``; the work is done by ``gridreach_app.serve`` and
``gridreach_app.worker`` (imported when a command runs, so `gridreach --help` stays fast).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from typing import TYPE_CHECKING, Any

from gridreach.settings import Settings

if TYPE_CHECKING:
    from gridreach.store import Store
    from gridreach_app.channels_config import ChannelsConfig

__all__ = ["add_channel_commands"]


def _store(settings: Settings) -> Store:
    from gridreach.store import Store

    settings.home.mkdir(parents=True, exist_ok=True)
    store = Store.from_url(settings.database_url)
    store.migrate()
    return store


def _actor() -> str:
    return "cli:" + (os.environ.get("USER") or "operator")


def _channels(settings: Settings, args: argparse.Namespace) -> ChannelsConfig:
    from gridreach_app.channels_config import load_channels

    return load_channels(os.environ, args.channels, settings.home)


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    import dataclasses

    from gridreach_app.serve import serve

    channels = _channels(settings, args)
    channels = dataclasses.replace(channels, host=args.host or channels.host,
                                   port=channels.port if args.port is None else args.port)
    return asyncio.run(serve(settings, channels, remote=args.remote))


def _send_now_report(store: Store, channels: ChannelsConfig, prefix: str) -> int:
    from gridreach_app.worker import outbox_counts, send_now

    for problem in asyncio.run(send_now(store, channels)):
        print(f"  {problem}")
    unsent = 0
    for channel, counts in sorted(outbox_counts(store, prefix).items()):
        unsent += counts["pending"] + counts["failed"]
        print(f"  {channel}: {counts['sent']} sent, {counts['pending']} still queued, {counts['failed']} failed")
    return 0 if not unsent else 3


def cmd_notice(settings: Settings, args: argparse.Namespace) -> int:
    from gridreach_app.worker import outbox_channels, queue_notice

    body = sys.stdin.read() if args.body == ["-"] else " ".join(args.body)
    channels, store = _channels(settings, args), _store(settings)
    try:
        result = queue_notice(store, channels, args.grid, args.title, body, _actor())
        print(f"Notice #{result.notice_id} queued for grid {args.grid.upper()}:")
        for channel in outbox_channels(channels):
            queued, skipped = result.queued.get(channel, []), result.skipped.get(channel, [])
            if queued or skipped:
                print(f"  {channel}: {len(queued)} group(s)" + (f", {len(skipped)} skipped" if skipped else ""))
        for note in result.notes:
            print(f"  note: {note}")
        if not args.send_now:
            print("A running `gridreach serve` sends them, paced (or run this with --send-now).")
            return 0
        print("Sending now...")
        return _send_now_report(store, channels, f"notice:{result.notice_id}:")
    finally:
        store.close()


def cmd_screen(settings: Settings, args: argparse.Namespace) -> int:
    from gridreach_app.worker import start_screening

    channels, store = _channels(settings, args), _store(settings)
    try:
        s = start_screening(store, channels, args.grid, args.questionnaire, _actor())
        print(f"Campaign #{s.campaign_id}: {s.title}, grid {args.grid.upper()} ({args.questionnaire}).")
        for line in s.lines:
            print(f"  {line}")
        print(f"Follow it: gridreach report --campaign {s.campaign_id}")
        if not args.send_now or not s.posted:
            return 0
        print("Sending now...")
        return _send_now_report(store, channels, f"screen:{s.campaign_id}:")
    finally:
        store.close()


def cmd_code(settings: Settings, args: argparse.Namespace) -> int:
    from gridreach.errors import NotFound
    from gridreach_app.worker import issue_code

    store = _store(settings)
    try:
        actor = _actor()
        if args.worker:  # issued by (and for the residents of) one grid worker, as their Telegram /code does
            worker = store.find_grid_worker_by_phone(args.worker)
            if worker is None:
                raise NotFound("no grid worker with this phone number (see `gridreach report` for the grids)")
            resident = store.find_resident_by_phone(args.phone) if args.phone else store.get_resident(args.resident)
            if resident is not None and resident.grid_code != worker.grid_code:
                raise NotFound(f"no resident of grid {worker.grid_code} with this phone number or id")
            actor = f"worker:{worker.id}"
        who, code = issue_code(store, args.phone, args.resident, actor)
    finally:
        store.close()
    print(f"One-time code for {who}: {code}")
    print("Valid 72 hours, once. Give it to the resident in person or by phone. The resident sends their phone "
          "number and the code together, e.g. 13912345678 " + code + ", to the Telegram bot (or shares their own "
          "number there instead) or to the WeChat account. It is not shown again.")
    return 0


def cmd_robot_add(settings: Settings, args: argparse.Namespace) -> int:
    from gridreach_app.worker import add_robot

    channels, store = _channels(settings, args), _store(settings)
    try:
        group = add_robot(store, channels, args.grid, args.name, _actor())
    finally:
        store.close()
    print(f"WeCom robot {group.external_id} now serves grid {group.grid_code}. "
          f"Try it: gridreach notice --grid {group.grid_code} --send-now TEXT")
    return 0


def cmd_groups(settings: Settings, args: argparse.Namespace) -> int:
    from gridreach_app.worker import list_groups

    channels, store = _channels(settings, args), _store(settings)
    try:
        rows = list_groups(store, channels, args.grid)
    finally:
        store.close()
    if not rows:
        print("No group is bound. Telegram: add the bot to the group and send /bind <grid> there; "
              "WeCom: gridreach robot add --grid <grid> --name <robot>.")
        return 0
    print(f"{'grid':6} {'channel':14} {'group':24} {'state':8} {'queued':>6} {'failed':>6}  title")
    for r in rows:
        g = r.group
        state = "active" if g.active else "inactive"
        note = f"  ({r.note})" if r.note else ""
        print(f"{g.grid_code:6} {g.channel:14} {g.external_id[:24]:24} {state:8} {r.queued:>6} {r.failed:>6}  "
              f"{g.title or ''}{note}")
    return 0


def add_channel_commands(sub: Any) -> None:
    """`serve`, `notice`, `screen`, `code`, `robot add`, `groups`."""
    conf = argparse.ArgumentParser(add_help=False)
    conf.add_argument("--channels", metavar="FILE", help="channel settings (YAML; default: $GRIDREACH_CHANNELS)")

    p = sub.add_parser("serve", parents=[conf], help="run every configured channel (Telegram, WeChat, WeCom, voice)")
    p.add_argument("--host", help="listen address (default $GRIDREACH_SERVE_HOST or 127.0.0.1)")
    p.add_argument("--port", type=int, help="listen port (default $GRIDREACH_SERVE_PORT or 5005; 0: any free)")
    p.add_argument("--remote", action="store_true", help="use the Rasa server at GRIDREACH_RASA_URL, not one here")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("notice", parents=[conf], help="send a notice to every bound group of a grid")
    p.add_argument("--grid", required=True, help="grid code, e.g. G01")
    p.add_argument("--title", help="title (default: the first line of the text)")
    p.add_argument("--send-now", action="store_true", help="send it from here now instead of by `serve`")
    p.add_argument("body", nargs="+", metavar="BODY", help="the notice text (- reads it from standard input)")
    p.set_defaults(func=cmd_notice)

    p = sub.add_parser("screen", parents=[conf], help="start a screening of a grid; posts its link to the groups")
    p.add_argument("--grid", required=True, help="grid code, e.g. G01")
    p.add_argument("--questionnaire", default="daily_health", help="questionnaire (default daily_health)")
    p.add_argument("--send-now", action="store_true", help="post it from here now instead of by `serve`")
    p.set_defaults(func=cmd_screen)

    p = sub.add_parser("code", help="a one-time code that binds a resident's chat account (printed once)")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--phone", help="the resident's phone number")
    who.add_argument("--resident", type=int, help="the resident's id")
    p.add_argument("--worker", metavar="PHONE",
                   help="issue it as this grid worker (their phone): refused for a resident of another grid")
    p.set_defaults(func=cmd_code)

    robot = sub.add_parser("robot", help="WeCom group robots").add_subparsers(dest="robot", required=True)
    p = robot.add_parser("add", parents=[conf], help="bind a configured WeCom group robot to a grid")
    p.add_argument("--grid", required=True, help="grid code, e.g. G01")
    p.add_argument("--name", required=True, help="the robot's name in GRIDREACH_WECOM_ROBOTS / wecom.robots")
    p.set_defaults(func=cmd_robot_add)

    p = sub.add_parser("groups", parents=[conf], help="bound groups and their state")
    p.add_argument("--grid", help="only this grid")
    p.set_defaults(func=cmd_groups)
