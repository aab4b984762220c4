"""``gridreach demo``: registered in the ``gridreach.commands`` entry-point group, so the app never imports the demo."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from gridreach.settings import Settings

__all__ = ["register"]


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    from gridreach_demo.channels import Sizes
    from gridreach_demo.screening import run_demo

    channels = None if args.no_channels else Sizes(telegram=args.telegram, wechat=args.wechat, calls=args.calls)
    return asyncio.run(run_demo(settings, grid=args.grid, limit=args.limit, concurrency=args.concurrency,
                                channels=channels, channels_grid=args.channels_grid))


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return value


def register(sub: Any) -> None:
    """Add ``demo`` to the ``gridreach`` command's sub-commands."""
    p = sub.add_parser("demo", help="screen one sample grid end to end through the Rasa core, then another over "
                                   "Telegram, WeChat/WeCom and phone calls against local fakes")
    p.add_argument("--grid", default="G01", help="grid code (default G01)")
    p.add_argument("--limit", type=int, help="screen only the first N residents")
    p.add_argument("--concurrency", type=int, default=8, help="conversations at once (default 8)")
    p.add_argument("--no-channels", action="store_true",
                   help="skip the second part (a grid over Telegram, WeChat/WeCom and calls, against local fakes)")
    p.add_argument("--channels-grid", default="G02", help="grid of the second part (default G02)")
    p.add_argument("--telegram", type=_count, default=10, help="residents on Telegram (default 10)")
    p.add_argument("--wechat", type=_count, default=10, help="residents on WeChat (default 10)")
    p.add_argument("--calls", type=_count, default=3, help="simulated phone calls, at most 3 (default 3; 0: none)")
    p.set_defaults(func=cmd_demo)
