"""The embedded demo: the real pipeline with no mail server anywhere.

``python run.py demo`` lays out ``var/demo/``: a Maildir inbox seeded with
the sample inquiries in ``bot/demo/inbox/``, an SMTP server on loopback
(aiosmtpd, in this process) that files every reply it accepts into the
Maildir ``var/demo/outbox`` as the patients' mail, a SQLite database, and
two accounts. Then it runs the worker and the staff web app exactly as
production does; only the mailbox kind and the SMTP host differ.
"""

from __future__ import annotations

import mailbox
import secrets
import shutil
import socket
from dataclasses import dataclass
from pathlib import Path

from aiosmtpd.controller import Controller

from bot.config import Config, parse_config

SAMPLES = Path(__file__).resolve().parent / "inbox"
REPO = Path(__file__).resolve().parents[2]


class MaildirSink:
    """aiosmtpd handler: every accepted message goes into a Maildir, as a mail host would deliver it."""

    def __init__(self, path: Path) -> None:
        self.box = mailbox.Maildir(path, create=True)
        self.count = 0

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: ANN001 - aiosmtpd's hook signature
        self.box.add(mailbox.MaildirMessage(envelope.original_content or envelope.content))
        self.count += 1
        return "250 OK delivered to the demo outbox"


@dataclass
class Demo:
    """A laid-out demo: its config, its SMTP sink, and the accounts created."""

    root: Path
    config: Config
    smtp: Controller
    sink: MaildirSink
    accounts: dict[str, tuple[str, str]]  # username -> (role, password)

    def stop(self) -> None:
        self.smtp.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def seed_inbox(inbox: Path) -> int:
    """Copy the sample inquiries into a fresh Maildir; returns how many."""
    box = mailbox.Maildir(inbox, create=True)
    samples = sorted(SAMPLES.glob("*.eml"))
    for path in samples:
        box.add(mailbox.MaildirMessage(path.read_bytes()))
    return len(samples)


def prepare(root: Path, host: str = "127.0.0.1", port: int = 8080, fresh: bool = True) -> Demo:
    """Lay out the demo under ``root`` and start its SMTP sink (the caller stops it)."""
    if fresh and root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True, exist_ok=True)
    if fresh or not (root / "inbox").exists():
        seed_inbox(root / "inbox")
    sink = MaildirSink(root / "outbox")
    smtp_port = _free_port()
    smtp = Controller(sink, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    config = parse_config(
        {
            "organisation": {
                "name": "ALS Worldwide",
                "address": "support@example.org",
                "reply_name": "ALS Worldwide support team (demo)",
            },
            "mailbox": {"kind": "maildir", "maildir": str(root / "inbox")},
            "smtp": {"host": "127.0.0.1", "port": smtp_port, "security": "none"},
            "database": {"url": f"sqlite:///{root / 'bot.db'}"},
            "schedule": {"fetch_seconds": 5, "send_seconds": 5},
            "paths": {
                "rules": str(REPO / "rules.yaml"),
                "replies": str(REPO / "replies"),
                "packets": str(root / "packets"),
            },
            "web": {"host": host, "port": port, "secret_key": secrets.token_hex(32)},
        },
        source="demo",
        environ={},
    )
    return Demo(root, config, smtp, sink, {})


def create_accounts(demo: Demo, services) -> dict[str, tuple[str, str]]:  # type: ignore[no-untyped-def]
    """A staff and an admin account with fresh random passwords (printed, never stored in clear)."""
    from sqlalchemy import select

    from bot.store.users import Role, User
    from bot.web.security import hash_password

    with services.store.session() as s:
        for name, role in (("staff", Role.STAFF), ("admin", Role.ADMIN)):
            password = secrets.token_urlsafe(9)
            user = s.scalar(select(User).where(User.username == name))
            if user is None:
                s.add(User(username=name, password_hash=hash_password(password), role=role.value))
            else:
                user.password_hash = hash_password(password)
            demo.accounts[name] = (role.value, password)
    return demo.accounts
