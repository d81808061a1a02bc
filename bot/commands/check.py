"""``check``: try the configured IMAP and SMTP settings and explain what is wrong in plain words."""

from __future__ import annotations

import argparse

from bot.config import load_config


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check", help="connect to IMAP and SMTP and say what works and what is wrong")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from bot.diagnose import check_all

    findings = check_all(load_config(args.config))
    for finding in findings:
        print(finding)
    bad = [f for f in findings if not f.ok]
    print("check: all good" if not bad else f"check: {len(bad)} problem(s)")
    return 1 if bad else 0
