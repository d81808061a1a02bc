"""``send --once``: send every approved reply."""

from __future__ import annotations

import argparse

from bot.commands._common import services_for


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("send", help="send approved replies over SMTP")
    p.add_argument("--once", action="store_true", help="one cycle, then exit (the worker loops)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from bot.send import send_once

    if not args.once:
        print("send: use --once for one cycle, or `run.py worker` to keep sending")
        return 2
    services = services_for(args)
    try:
        report = send_once(services)
        print(report.summary())
    finally:
        services.close()
    return 1 if report.failed else 0
