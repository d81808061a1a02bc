"""Fixtures for unit tests that need a database but no mail server."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.config import parse_config
from bot.services import LiveRules, Services
from bot.store import Inquiry, Store

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(f"sqlite:///{tmp_path / 'bot.db'}")
    yield s
    s.close()


def unit_services(tmp_path: Path, store: Store | None = None, **sections: dict) -> Services:
    """Services on a Maildir mailbox and SQLite in ``tmp_path``, the repository's rules and replies;
    ``sections`` override config sections (``screening={"grace_minutes": 30}``)."""
    data = {
        "organisation": {"name": "ALS Worldwide", "address": "support@example.org", "reply_name": "Support"},
        "mailbox": {"kind": "maildir", "maildir": str(tmp_path / "maildir")},
        "smtp": {"host": "127.0.0.1", "port": 1, "security": "none"},
        "database": {"url": f"sqlite:///{tmp_path / 'bot.db'}"},
        "paths": {
            "rules": str(ROOT / "rules.yaml"),
            "replies": str(ROOT / "replies"),
            "packets": str(tmp_path / "packets"),
        },
        "retention": {"days": 30},
        **sections,
    }
    config = parse_config(data, environ={})
    return Services(
        config=config, store=store or Store(config.database.url), rules=LiveRules(config.paths.rules)
    )


@pytest.fixture
def services(store: Store, tmp_path: Path) -> Services:
    return unit_services(tmp_path, store)


def add_inquiry(store: Store, n: int, *, state: str, received: datetime, **kw: object) -> int:
    """Insert a ledger row directly; returns its id."""
    with store.session() as s:
        row = Inquiry(
            source="test",
            uidvalidity=1,
            uid=n,
            message_id=f"<m{n}@example.com>",
            content_hash=f"{n:064d}",
            raw=b"Subject: x\r\n\r\nbody",
            received_at=received,
            action="draft",
            state=state,
            topics=kw.pop("topics", []),
            reasons=[],
            **kw,
        )
        s.add(row)
        s.flush()
        return row.id


def days_ago(days: float) -> datetime:
    from datetime import timedelta

    return datetime.now(UTC) - timedelta(days=days)
