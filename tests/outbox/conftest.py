"""Fixtures for the outbox tests: approved replies waiting to be sent through the real SMTP relay.

``outbox`` delivers inquiries to the real Dovecot inbox, fetches and drafts
them in this process, and approves them as a staff member would, so each
test starts from replies in ``approved`` with the bytes that will be sent.
The relay (``smtp_relay``) records what it accepted and delivers it over
LMTP into the patients' own Dovecot inboxes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from bot.fetch import fetch_once
from bot.queue import approve
from bot.send import SendReport, send_once
from bot.services import Services
from bot.store import Inquiry, Reply, Store
from tests.ingest.helpers import SUPPORT, Ledger, deliver_many, inquiry, services


@dataclass(frozen=True)
class Approved:
    """One approved reply and the inquiry it answers."""

    reply_id: int
    message_id: str  # the reply's own Message-ID, fixed when it was drafted
    inquiry_id: int
    inquiry_message_id: str
    to_address: str


@dataclass
class Outbox:
    dovecot: Any
    relay: Any
    config: Path  # the config file, for the CLI
    svc: Services
    ledger: Ledger

    def approved(self, count: int, tag: str = "out") -> list[Approved]:
        """Deliver ``count`` inquiries (English and Spanish in turn), draft them, approve every draft."""
        deliver_many(
            self.dovecot,
            [inquiry(n, language="en" if n % 2 == 0 else "es", topic="dose", tag=tag) for n in range(count)],
        )
        report = fetch_once(self.svc)
        assert report.states.get("drafted") == count, report.summary()
        out = []
        with self.svc.store.session() as s:
            for inq in s.query(Inquiry).filter(Inquiry.state == "drafted").order_by(Inquiry.id):
                reply = approve(s, inq.id, "test:staff")
                out.append(Approved(reply.id, reply.message_id, inq.id, inq.message_id, reply.to_address))
        return out

    def send(self, now: datetime | None = None) -> SendReport:
        """``send --once`` in this process (``now`` decides which retries are due)."""
        return send_once(self.svc, now=now)

    def reply(self, reply_id: int) -> Reply:
        [reply] = self.ledger.replies(Reply.id == reply_id)
        return reply

    def set_reply(self, reply_id: int, **values: object) -> None:
        with self.svc.store.session() as s:
            s.execute(update(Reply).where(Reply.id == reply_id).values(**values))

    def expire_lease(self, reply_id: int) -> None:
        """Make a claim look abandoned long ago, as after a crash and a long enough wait."""
        self.set_reply(reply_id, next_attempt_at=datetime(2000, 1, 1, tzinfo=UTC))

    def inbox(self, address: str) -> list[bytes]:
        """The raw messages in a patient's inbox (what the relay delivered to them)."""
        return [raw for _, _, raw in self.dovecot.messages(address)]

    def sent_folder(self) -> list[bytes]:
        return [raw for _, _, raw in self.dovecot.messages(SUPPORT, "Sent")]

    def original_flags(self, inquiry_id: int) -> tuple[str, ...]:
        [row] = self.ledger.rows(Inquiry.id == inquiry_id)
        return {uid: flags for uid, flags, _ in self.dovecot.messages(SUPPORT)}[row.uid]


@pytest.fixture
def outbox(dovecot, smtp_relay, tmp_config) -> Iterator[Outbox]:  # type: ignore[no-untyped-def]
    """Approved replies on demand (``outbox.approved(n)``), sent through ``smtp_relay`` into Dovecot."""
    store = Store(tmp_config()["database"]["url"])
    svc = services(tmp_config())
    yield Outbox(dovecot, smtp_relay, tmp_config.write(), svc, Ledger(store))
    svc.close()
    store.close()
