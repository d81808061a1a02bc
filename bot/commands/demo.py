"""``demo``: the whole bot on this machine with no mail server, in one command."""

from __future__ import annotations

import argparse
import threading
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="run the real pipeline on a local sample inbox, with the web app")
    p.add_argument(
        "--dir", default="var/demo", help="where the demo lives (default var/demo; reset each run)"
    )
    p.add_argument(
        "--keep", action="store_true", help="keep the previous demo's data instead of starting afresh"
    )
    p.add_argument("--host", default="127.0.0.1", help="web app address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8080, help="web app port (default 8080; 0 picks a free one)")
    p.add_argument("--seconds", type=float, help="stop by itself after this many seconds (for scripts)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from bot.commands._common import setup_logging
    from bot.demo import create_accounts, prepare
    from bot.runner import run_all, stop_on_signals
    from bot.services import build_services

    setup_logging("WARNING")
    demo = prepare(Path(args.dir), args.host, args.port, fresh=not args.keep)
    services = build_services(demo.config)
    accounts = create_accounts(demo, services)
    stop = threading.Event()
    stop_on_signals(stop)
    if args.seconds:
        threading.Timer(args.seconds, stop.set).start()
    print("=" * 72)
    print("ALS helpdesk bot: demo (no mail server needed)")
    waiting = len(list((demo.root / "inbox" / "new").iterdir()))
    print(f"  inbox (Maildir):   {demo.root / 'inbox'}  - {waiting} sample inquiries")
    print(
        f"  replies sent to:   {demo.root / 'outbox'}  (an SMTP server on 127.0.0.1:{demo.config.smtp.port})"
    )
    print(f"  database:          {demo.config.database.url}")
    for name, (role, password) in accounts.items():
        print(f"  login as {role:<6} user {name!r} password {password!r}")
    print("=" * 72, flush=True)
    try:
        run_all(services, args.host, args.port, stop)
    finally:
        services.close()
        demo.stop()
    print(f"demo: stopped; replies delivered to the outbox: {demo.sink.count}")
    return 0
