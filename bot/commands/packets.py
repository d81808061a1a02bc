"""``packets build [--out DIR]``: build every information packet PDF from its source.

Sources are ``<paths.replies>/<lang>/packets/*.md``; PDFs go to
``<lang>/<filename>`` under ``--out`` (default ``paths.packets``). The
organisation's name comes from the config; without a config file the
defaults below are used, so an admin can preview edits to the sources
before the bot is configured. Exit status 0 when every packet was built,
1 when a source is wrong (the message names its file and line).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from bot.config import DEFAULT_CONFIG_PATH, load_config

DEFAULT_REPLIES = Path("replies")
DEFAULT_OUT = Path("var/packets")
DEFAULT_ORGANISATION = "ALS Worldwide"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("packets", help="information packets: build the PDFs from their sources")
    commands = p.add_subparsers(dest="packets_command", metavar="SUBCOMMAND")
    build = commands.add_parser("build", help="build every packet in every language")
    build.add_argument(
        "--out", metavar="DIR", help="output folder (default: paths.packets, else var/packets)"
    )
    build.set_defaults(func=run_build)

    def usage(args: argparse.Namespace) -> int:
        p.print_help()
        return 2

    p.set_defaults(default_func=usage)


def settings(args: argparse.Namespace) -> tuple[Path, Path, str]:
    """(replies dir, output dir, organisation): from the config, else defaults.

    Defaults apply only when no config was named (``--config``, $BOT_CONFIG)
    and the default file is absent: a named file that is missing is a typo to
    report (:class:`bot.config.ConfigError`), not a reason to build for no one.
    """
    replies, out, organisation = DEFAULT_REPLIES, DEFAULT_OUT, DEFAULT_ORGANISATION
    named = getattr(args, "config", None) or os.environ.get("BOT_CONFIG")
    if named or DEFAULT_CONFIG_PATH.exists():
        config = load_config(named)  # an invalid file is reported, never silently ignored
        replies, out, organisation = config.paths.replies, config.paths.packets, config.organisation.name
    if getattr(args, "out", None):
        out = Path(args.out)
    return replies, out, organisation


def run_build(args: argparse.Namespace) -> int:
    # Imported here: reportlab is only needed when packets are actually built.
    from bot.packets import PacketError, build_packets

    replies, out, organisation = settings(args)
    try:
        built = build_packets(replies, out, organisation)
    except PacketError as exc:
        print(f"packets: {exc}", file=sys.stderr)
        return 1
    for path in built:
        print(path)
    print(f"packets: built {len(built)} file(s) for {organisation}", file=sys.stderr)
    return 0
