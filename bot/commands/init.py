"""``init``: ask the questions and write a config file.

Passwords are not written to the file: the command prints the environment
variables to set instead, so the file can be shared or committed safely.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from bot.config import ConfigError, config_path, parse_config

QUESTIONS = [
    ("organisation.name", "Organisation name", "ALS Worldwide"),
    ("organisation.address", "Inquiry address (replies come from it)", "support@example.org"),
    ("organisation.reply_name", "Name replies are signed with", "ALS Worldwide support team"),
    ("imap.host", "IMAP server", "imap.example.org"),
    ("imap.port", "IMAP port", "993"),
    ("imap.security", "IMAP security (ssl, starttls, none)", "ssl"),
    ("imap.username", "IMAP user name", None),  # defaults to the inquiry address
    ("imap.folder", "Folder inquiries arrive in", "INBOX"),
    ("smtp.host", "SMTP server", "smtp.example.org"),
    ("smtp.port", "SMTP port", "587"),
    ("smtp.security", "SMTP security (ssl, starttls, none)", "starttls"),
    ("smtp.username", "SMTP user name", None),
    ("database.url", "Database URL", "sqlite:///var/bot.db"),
]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("init", help="ask the questions and write a config file")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    p.set_defaults(func=run)


def _ask(label: str, default: str) -> str:
    print(f"{label} [{default}]: ", end="", flush=True)
    answer = sys.stdin.readline()
    if not answer:  # end of input: take the defaults
        print()
    return answer.strip() or default


def run(args: argparse.Namespace) -> int:
    path = config_path(args.config)
    if path.exists() and not args.force:
        print(f"init: {path} exists; use --force to overwrite it")
        return 1
    data: dict[str, dict[str, object]] = {}
    for key, label, default in QUESTIONS:
        section, name = key.split(".")
        fallback = default if default is not None else str(data["organisation"]["address"])
        value: object = _ask(label, fallback)
        if name == "port":
            value = int(str(value))
        data.setdefault(section, {})[name] = value
    try:
        parse_config(data, str(path), environ={})
    except ConfigError as exc:
        print(f"init: those answers are not valid:\n{exc}")
        return 1
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    header = "# Written by `run.py init`. Every key is explained in the README's Configuration table.\n"
    Path(path).write_text(
        header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8"
    )
    print(f"init: wrote {path}")
    print("Set the passwords in the environment, not in the file: BOT_IMAP_PASSWORD, BOT_SMTP_PASSWORD.")
    print("Then run `python run.py check` to try the settings.")
    return 0
