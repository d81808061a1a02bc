"""Where inquiries arrive and where sent copies go: an IMAP folder or a local Maildir.

Both implement :class:`MailSource`. The fetch stage asks for UIDs above a
high-water mark and the outbox files copies and flags originals, without
knowing which kind of mailbox it talks to.
"""

from __future__ import annotations

from typing import Protocol

from bot.config import Config


class MailSource(Protocol):
    """A mailbox folder addressed by (UIDVALIDITY, UID), as IMAP does it."""

    name: str  # the ledger's name for the folder

    def uidvalidity(self) -> int:
        """The folder's UIDVALIDITY: when it changes, every UID means something new."""
        ...

    def new_uids(self, last_uid: int) -> list[int]:
        """UIDs above ``last_uid``, ascending."""
        ...

    def fetch(self, uids: list[int]) -> dict[int, bytes]:
        """The raw bytes of each UID still there, without marking anything seen."""
        ...

    def mark_processed(self, uids: list[int], quarantined: frozenset[int] = frozenset()) -> None:
        """Called after the messages are committed: flag (and maybe move) them; ``quarantined``
        are those the bot could not handle."""
        ...

    def unmarked(self, last_uid: int, first_uid: int = 1) -> list[int]:
        """UIDs from ``first_uid`` to ``last_uid`` that :meth:`mark_processed` never reached (a crash
        after commit)."""
        ...

    def flag_answered(self, uidvalidity: int, uid: int, message_id: str) -> None:
        """Flag the original answered; found by Message-ID when the folder was renumbered."""
        ...

    def append_sent(self, raw: bytes, pending: bool = False) -> None:
        """File a copy of a reply in the Sent folder; ``pending`` marks it as not yet accepted by SMTP."""
        ...

    def confirm_sent(self, message_id: str) -> None:
        """SMTP accepted it: the pending copy becomes an ordinary sent message."""
        ...

    def discard_pending(self, message_id: str) -> None:
        """SMTP refused it: remove the pending copy."""
        ...

    def sent_status(self, message_id: str) -> str | None:
        """``"sent"``, ``"pending"`` (it may or may not have gone out) or None (never sent)."""
        ...

    def close(self) -> None: ...


def open_source(config: Config) -> MailSource:
    """The configured source, connected."""
    if config.mailbox.kind == "maildir":
        from bot.sources.maildir_source import MaildirSource

        return MaildirSource(config.mailbox.maildir)
    from bot.sources.imap_source import ImapSource

    assert config.imap is not None  # the config refuses imap mailboxes without it
    return ImapSource.connect(config.imap)
