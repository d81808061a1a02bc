"""Helpers for the ingestion and outbox tests: made-up inquiries, bulk delivery, CLI, ledger, worker.

Everything here talks to the real servers of ``tests/servers`` (Dovecot and
the SMTP relay on loopback) and to the bot's real SQLite database; nothing
is mocked. Imported by ``tests/ingest/conftest.py`` and
``tests/outbox/conftest.py``.
"""

from __future__ import annotations

import contextlib
import email.header
import email.utils
import os
import signal
import smtplib
import subprocess
import sys
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import undefer

from bot.config import parse_config
from bot.services import Services, build_services
from bot.store import FolderState, Inquiry, Reply, Store

REPO = Path(__file__).resolve().parents[2]
MAIL = Path(__file__).parent / "mail"
SUPPORT = "support@example.org"

T = TypeVar("T")

# Bodies people write; {name} and {n} make each one distinct. "call" asks for a
# person (a topic without a packet, cheap to draft), "dose" asks about the dose
# (the reply carries the injection packet).
_BODIES = {
    ("en", "call"): (
        "Hello,\r\n\r\nMy husband was diagnosed with ALS this year and we have read about "
        "methylcobalamin. Could someone call me? My phone number is 555-01{n:04d}.\r\n\r\n"
        "Thank you,\r\n{name}\r\n"
    ),
    ("en", "dose"): (
        "Hi,\r\n\r\nMy mother has ALS. What dose of methylcobalamin should she take, and how often "
        "does she need the injections?\r\n\r\nBest wishes,\r\n{name} (ref {n})\r\n"
    ),
    ("es", "call"): (
        "Hola,\r\n\r\nA mi padre le diagnosticaron ELA hace poco y leímos sobre la metilcobalamina. "
        "¿Me pueden llamar? Mi número de teléfono es 555-01{n:04d}.\r\n\r\nGracias,\r\n{name}\r\n"
    ),
    ("es", "dose"): (
        "Buenas tardes,\r\n\r\nMi esposo tiene ELA. ¿Qué dosis de metilcobalamina debe usar y cada "
        "cuánto se pone las inyecciones?\r\n\r\nSaludos,\r\n{name} (ref {n})\r\n"
    ),
}
_SUBJECTS = {
    ("en", "call"): "Can someone call me? ({n})",
    ("en", "dose"): "Question about the dose ({n})",
    ("es", "call"): "¿Me pueden llamar? ({n})",
    ("es", "dose"): "Pregunta sobre la dosis ({n})",
}
_NAMES = {
    "en": ("Margaret Ellis", "James Carter", "Linda Brooks", "Robert Hale", "Susan Ward"),
    "es": ("María López", "José Ramírez", "Lucía Fernández", "Carlos Ortega", "Ana Torres"),
}


def inquiry(
    n: int,
    *,
    language: str = "en",
    topic: str = "call",
    tag: str = "inq",
    sender: str | None = None,
) -> bytes:
    """One distinct inquiry as a person would send it (CRLF, UTF-8, 8bit), numbered ``n``.

    Its Message-ID is :func:`message_id` ``(n, tag)``; the sender is unique
    per ``n`` unless given, so the per-sender daily cap never applies.
    """
    name = _NAMES[language][n % len(_NAMES[language])]
    domain = "example.com" if language == "en" else "example.es"
    first = unicodedata.normalize("NFKD", name.split()[0].lower()).encode("ascii", "ignore").decode()
    sender = sender or f"{first}.{n}@{domain}"
    subject = _SUBJECTS[(language, topic)].format(n=n)
    from_name = email.utils.formataddr((name, sender), charset="utf-8")
    headers = [
        f"From: {from_name}",
        "To: ALS Worldwide <support@example.org>",
        f"Subject: {subject if subject.isascii() else email.header.Header(subject, 'utf-8').encode()}",
        f"Date: {email.utils.format_datetime(datetime.now(UTC))}",
        f"Message-ID: {message_id(n, tag)}",
        "MIME-Version: 1.0",
        'Content-Type: text/plain; charset="utf-8"',
        "Content-Transfer-Encoding: 8bit",
    ]
    body = _BODIES[(language, topic)].format(n=n, name=name)
    return ("\r\n".join(headers) + "\r\n\r\n" + body).encode("utf-8")


def message_id(n: int, tag: str = "inq") -> str:
    return f"<{tag}-{n}@mail.example.net>"


def inquiries(count: int, *, tag: str = "inq", dose_every: int = 10, start: int = 0) -> list[bytes]:
    """``count`` distinct inquiries, English and Spanish in turn; every ``dose_every``-th asks the dose."""
    return [
        inquiry(
            n,
            language="en" if n % 2 == 0 else "es",
            topic="dose" if dose_every and n % dose_every == 0 else "call",
            tag=tag,
        )
        for n in range(start, start + count)
    ]


def append_many(dovecot: Any, raws: Sequence[bytes], user: str = SUPPORT, folder: str = "INBOX") -> None:
    """APPEND every message to ``folder`` over one IMAP connection (MULTIAPPEND, in chunks)."""
    with dovecot.imap(user) as client:
        for start in range(0, len(raws), 250):
            client.multiappend(folder, list(raws[start : start + 250]))


def deliver_many(
    dovecot: Any, raws: Iterable[bytes], user: str = SUPPORT, mail_from: str = "sender@example.net"
) -> None:
    """Deliver every message over LMTP in one session, as an MTA would (Dovecot adds its headers)."""
    with smtplib.LMTP(dovecot.host, dovecot.lmtp_port, timeout=30) as lmtp:
        for raw in raws:
            lmtp.sendmail(mail_from, [user], raw)


def flags(dovecot: Any, user: str = SUPPORT, folder: str = "INBOX") -> dict[int, set[str]]:
    """UID -> flags of every message in ``folder``, read without touching anything."""
    with dovecot.imap(user) as client:
        client.select_folder(folder, readonly=True)
        uids = client.search("ALL")
        if not uids:
            return {}
        data = client.fetch(uids, ["FLAGS"])
    return {uid: {_text(f) for f in item[b"FLAGS"]} for uid, item in data.items()}


def message_ids_in(dovecot: Any, user: str = SUPPORT, folder: str = "INBOX") -> list[str]:
    """The Message-ID of every message in ``folder``, read without marking anything seen."""
    with dovecot.imap(user) as client:
        client.select_folder(folder, readonly=True)
        uids = client.search("ALL")
        if not uids:
            return []
        data = client.fetch(uids, ["BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"])
    out = []
    for item in data.values():
        header = next(v for k, v in item.items() if k.startswith(b"BODY[HEADER"))
        out.append(header.decode().split(":", 1)[1].strip())
    return out


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def services(config: dict[str, Any]) -> Services:
    """The bot's services for a config mapping, in this process (no environment secrets)."""
    return build_services(parse_config(config, environ={}))


def run_cli(
    config: Path,
    *args: str,
    env: dict[str, str] | None = None,
    check: bool = True,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """``python run.py --config CONFIG ARGS``, as the README says; a non-zero exit fails if ``check``."""
    proc = subprocess.run(
        [sys.executable, "run.py", "--config", str(config), *args],
        cwd=REPO,
        env=child_env(env),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check:
        assert proc.returncode == 0, (
            f"{args} exited {proc.returncode}\nstdout:{proc.stdout}\nstderr:{proc.stderr[-3000:]}"
        )
    return proc


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for a bot subprocess: ours without BOT_* settings, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOT_")}
    env.update(extra or {})
    return env


def as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes for ``timezone=True`` columns: they are UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def wait_until(predicate: Callable[[], T], timeout: float, what: str, interval: float = 0.05) -> T:
    """Poll ``predicate`` until it returns something truthy; fails the test after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


@dataclass
class Ledger:
    """Read-only views of the bot's database, for assertions (the test's own connection)."""

    store: Store

    def count(self, model: type = Inquiry, *where: Any) -> int:
        with self.store.session() as s:
            return s.scalar(select(func.count()).select_from(model).where(*where)) or 0

    def drafts(self) -> int:
        return self.count(Reply)

    def replies_per_message_id(self) -> Counter[str]:
        """Inquiry Message-ID -> number of replies drafted for it (exactly-once means all 1)."""
        with self.store.session() as s:
            rows = s.execute(
                select(Inquiry.message_id, func.count(Reply.id))
                .join(Reply, Reply.inquiry_id == Inquiry.id)
                .group_by(Inquiry.message_id)
            )
            return Counter({mid: n for mid, n in rows})

    def rows(self, *where: Any) -> list[Inquiry]:
        """Ledger rows (raw bytes not loaded), by id."""
        with self.store.session() as s:
            return list(s.scalars(select(Inquiry).where(*where).order_by(Inquiry.id)))

    def states(self, *where: Any) -> Counter[str]:
        return Counter(r.state for r in self.rows(*where))

    def message_ids(self, *where: Any) -> set[str]:
        return {r.message_id for r in self.rows(*where)}

    def raw(self, inquiry_id: int) -> bytes:
        with self.store.session() as s:
            return s.scalar(select(Inquiry.raw).where(Inquiry.id == inquiry_id))

    def folder_states(self) -> list[FolderState]:
        with self.store.session() as s:
            return list(s.scalars(select(FolderState).order_by(FolderState.id)))

    def replies(self, *where: Any) -> list[Reply]:
        """Replies, raw bytes loaded, by id."""
        with self.store.session() as s:
            return list(
                s.scalars(select(Reply).options(undefer(Reply.stored_raw)).where(*where).order_by(Reply.id))
            )


class Worker:
    """One ``python run.py --config X worker`` subprocess; its output goes to ``log_path``."""

    def __init__(self, config: Path, log_path: Path, env: dict[str, str] | None = None) -> None:
        self.config, self.log_path = config, log_path
        with log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "run.py", "--config", str(config), "worker"],
                cwd=REPO,
                env=child_env(env),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    @property
    def running(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> int:
        """SIGKILL, like a power cut; returns the exit status (-9)."""
        with contextlib.suppress(ProcessLookupError):
            self.proc.send_signal(signal.SIGKILL)
        return self.proc.wait(30)

    def wait_started(self, timeout: float = 60) -> None:
        """Wait for the worker's "worker started" log line: its jobs run and its signal handlers are set."""
        wait_until(
            lambda: '"event": "worker_started"' in self.log(10**6) or not self.running, timeout, "the worker"
        )
        assert self.running, f"the worker exited with {self.proc.returncode}:\n{self.log()}"

    def terminate(self, timeout: float = 60) -> tuple[int, float]:
        """SIGTERM (once it is started) and wait; returns (exit status, seconds it took to stop)."""
        self.wait_started()
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout)
        return code, time.monotonic() - started

    def wait(self, timeout: float) -> int:
        return self.proc.wait(timeout)

    def log(self, lines: int = 60) -> str:
        """The last ``lines`` lines of its output (JSON log lines and the command's own)."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])
