"""``purge``: delete closed inquiries older than the retention period now (the worker does it daily)."""

from __future__ import annotations

import argparse

from bot.commands._common import services_for


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("purge", help="delete closed inquiries past the retention period")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from bot.retention import purge

    services = services_for(args)
    try:
        n = purge(services)
    finally:
        services.close()
    print(f"purge: {n} inquiries past {services.config.retention.days} days deleted")
    return 0
