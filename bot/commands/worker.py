"""``worker``: fetch and send on their intervals until stopped (Ctrl-C or SIGTERM)."""

from __future__ import annotations

import argparse
import logging

from bot.commands._common import services_for


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("worker", help="run the scheduled fetch and send jobs until stopped")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from bot.worker import run_worker

    services = services_for(args)
    logging.getLogger("bot").setLevel(logging.INFO)
    print("worker: running; Ctrl-C stops it", flush=True)
    try:
        run_worker(services)
    finally:
        services.close()
    print("worker: stopped", flush=True)
    return 0
