"""``fetch --once``: one ingestion cycle."""

from __future__ import annotations

import argparse

from bot.commands._common import services_for


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("fetch", help="read new mail, triage it and queue drafts")
    p.add_argument("--once", action="store_true", help="one cycle, then exit (the worker loops)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from bot.fetch import fetch_once

    if not args.once:
        print("fetch: use --once for one cycle, or `run.py worker` to keep fetching")
        return 2
    services = services_for(args)
    try:
        print(fetch_once(services).summary())
    finally:
        services.close()
    return 0
