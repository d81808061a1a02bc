"""An IMAP folder as a :class:`~bot.sources.MailSource`."""

from __future__ import annotations

import logging

from imapclient import IMAPClient

from bot import imap
from bot.config import Imap
from bot.sources.bodyfetch import fetch_bodies

log = logging.getLogger(__name__)

SENT_FOLDER = "Sent"
# A keyword on messages the bot has stored, for people reading the mailbox.
PROCESSED_FLAG = b"$HelpdeskStored"
# On a Sent copy filed before SMTP accepted the reply; removed once it did.
PENDING_FLAG = b"$HelpdeskPending"


class ImapSource:
    """One IMAP folder on an open connection (which may be the IDLE watcher's)."""

    def __init__(self, client: IMAPClient, cfg: Imap, owns_client: bool = True) -> None:
        self.client, self.cfg, self._owns = client, cfg, owns_client
        self.folder = cfg.folder
        self.name = imap.source_name(cfg, self.folder)
        self._uidvalidity = int(client.select_folder(self.folder)[b"UIDVALIDITY"])

    @classmethod
    def connect(cls, cfg: Imap) -> ImapSource:
        return cls(imap.connect(cfg), cfg)

    def uidvalidity(self) -> int:
        return self._uidvalidity

    def new_uids(self, last_uid: int) -> list[int]:
        # ``N:*`` always includes the newest message, even below N: filter.
        return sorted(u for u in self.client.search(["UID", f"{last_uid + 1}:*"]) if u > last_uid)

    def fetch(self, uids: list[int]) -> dict[int, bytes]:
        # A message expunged by another session between SEARCH and FETCH may still be answered,
        # as ``BODY[] NIL`` (Dovecot announces the EXPUNGE after): it is gone, like a missing UID.
        return {uid: body for uid, body in fetch_bodies(self.client, uids).items() if body is not None}

    def mark_processed(self, uids: list[int], quarantined: frozenset[int] = frozenset()) -> None:
        if not uids:
            return
        try:
            self.client.add_flags(uids, [PROCESSED_FLAG], silent=True)
            bad = [u for u in uids if u in quarantined]
            if bad and self.cfg.quarantine_folder:
                self.client.move(bad, self.cfg.quarantine_folder)
                uids = [u for u in uids if u not in quarantined]
            if uids and self.cfg.processed_folder:
                self.client.move(uids, self.cfg.processed_folder)
        except Exception as exc:  # noqa: BLE001 - the ledger has them; flagging is a courtesy
            log.warning("could not flag processed mail: %s", type(exc).__name__)

    def unmarked(self, last_uid: int, first_uid: int = 1) -> list[int]:
        if last_uid < 1:
            return []
        span = f"{first_uid}:{last_uid}"
        return sorted(
            u
            for u in self.client.search(["UID", span, "UNKEYWORD", PROCESSED_FLAG.decode()])
            if first_uid <= u <= last_uid
        )

    def flag_answered(self, uidvalidity: int, uid: int, message_id: str) -> None:
        for folder in filter(None, (self.folder, self.cfg.processed_folder, self.cfg.quarantine_folder)):
            info = self.client.select_folder(folder)
            if (
                folder == self.folder
                and int(info[b"UIDVALIDITY"]) == uidvalidity
                and self.client.search(["UID", str(uid)])
            ):
                uids = [uid]
            else:  # moved or renumbered since: find it by Message-ID
                uids = self.client.search(["HEADER", "Message-ID", message_id])
            if uids:
                self.client.add_flags(uids, [b"\\Answered"], silent=True)
                break
        self.client.select_folder(self.folder)

    def _ensure_sent(self) -> None:
        if not self.client.folder_exists(SENT_FOLDER):
            self.client.create_folder(SENT_FOLDER)

    def append_sent(self, raw: bytes, pending: bool = False) -> None:
        self._ensure_sent()
        self.client.append(SENT_FOLDER, raw, flags=[b"\\Seen", PENDING_FLAG] if pending else [b"\\Seen"])

    def _in_sent(self, message_id: str, *criteria: str) -> list[int]:
        self.client.select_folder(SENT_FOLDER)
        return list(self.client.search(["HEADER", "Message-ID", message_id, *criteria]))

    def confirm_sent(self, message_id: str) -> None:
        try:
            uids = self._in_sent(message_id, "KEYWORD", PENDING_FLAG.decode())
            if uids:
                self.client.remove_flags(uids, [PENDING_FLAG], silent=True)
        finally:
            self.client.select_folder(self.folder)

    def discard_pending(self, message_id: str) -> None:
        try:
            uids = self._in_sent(message_id, "KEYWORD", PENDING_FLAG.decode())
            if uids:
                self.client.delete_messages(uids, silent=True)
                self.client.uid_expunge(uids)
        finally:
            self.client.select_folder(self.folder)

    def sent_status(self, message_id: str) -> str | None:
        self._ensure_sent()
        try:
            uids = self._in_sent(message_id)
            if not uids:
                return None
            pending = self._in_sent(message_id, "KEYWORD", PENDING_FLAG.decode())
            return "pending" if set(uids) == set(pending) else "sent"
        finally:
            self.client.select_folder(self.folder)

    def close(self) -> None:
        if self._owns:
            imap.close(self.client)
