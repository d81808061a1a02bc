"""The command line: ``python run.py COMMAND`` or the ``helpdesk-bot`` script.

Sub-commands live in :mod:`bot.commands`, one module each (see its docstring).
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from bot import commands
from bot.config import ConfigError


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser with every command module registered."""
    parser = argparse.ArgumentParser(
        prog="run.py", description="ALS helpdesk email bot: fetch, triage, draft, approve, send."
    )
    parser.add_argument(
        "--config", metavar="PATH", help="config file (default: $BOT_CONFIG or config/bot.yaml)"
    )
    # No command: the worker and the web app together, as a production install runs.
    parser.set_defaults(func=None, default_func=_run_everything)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):  # shared helpers, not commands
            continue
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        module.register(sub)
    return parser


def _run_everything(args: argparse.Namespace) -> int:
    from bot.commands._common import services_for
    from bot.runner import run_all

    services = services_for(args)
    try:
        run_all(services, services.config.web.host, services.config.web.port)
    finally:
        services.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` and run the chosen command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        args.func = args.default_func
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
