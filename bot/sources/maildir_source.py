"""A local Maildir as a :class:`~bot.sources.MailSource`: for a bot on the mail host, and the demo.

Maildir has no UIDs, so this keeps its own, Dovecot-style: a
``helpdesk-uidlist.json`` beside ``cur/`` and ``new/`` maps each message's
unique file name to a UID that never changes, with a UIDVALIDITY chosen
when the list is first made. Messages are never moved out of ``new/`` or
marked seen (a person may read the same Maildir); answered ones get the
standard ``R`` flag. Sent copies go to the Maildir++ subfolder ``.Sent``.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import mailbox
import os
import time
from pathlib import Path

UIDLIST = "helpdesk-uidlist.json"
_HEADERS = email.parser.BytesHeaderParser(policy=email.policy.compat32)


class MaildirSource:
    """The inbox of one Maildir, with stable UIDs."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        for sub in ("tmp", "new", "cur"):  # Maildir(create=True) skips a folder that already exists
            (self.path / sub).mkdir(parents=True, exist_ok=True)
        self.box = mailbox.Maildir(self.path, create=True)
        self.name = f"maildir:{self.path.resolve()}"
        self._list = self._load()

    def _load(self) -> dict:
        try:
            return json.loads((self.path / UIDLIST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {"uidvalidity": int(time.time()), "next_uid": 1, "uids": {}}

    def _save(self) -> None:
        tmp = self.path / f".{UIDLIST}.tmp"
        tmp.write_text(json.dumps(self._list), encoding="utf-8")
        os.replace(tmp, self.path / UIDLIST)  # atomic: a crash never leaves half a list

    def uidvalidity(self) -> int:
        return int(self._list["uidvalidity"])

    def _assign(self) -> dict[str, int]:
        self.box = mailbox.Maildir(self.path, create=False)  # re-read the folders
        uids: dict[str, int] = self._list["uids"]
        keys = list(self.box.iterkeys())
        # Maildir names start with the delivery time, so sorting by name is delivery order.
        new = sorted(k for k in keys if k not in uids)
        for key in new:
            uids[key] = self._list["next_uid"]
            self._list["next_uid"] += 1
        if new:
            self._save()
        return uids

    def new_uids(self, last_uid: int) -> list[int]:
        return sorted(uid for uid in self._assign().values() if uid > last_uid)

    def _key(self, uid: int) -> str | None:
        for key, value in self._list["uids"].items():
            if value == uid:
                return key
        return None

    def fetch(self, uids: list[int]) -> dict[int, bytes]:
        wanted = set(uids)
        out: dict[int, bytes] = {}
        for key, uid in self._list["uids"].items():
            if uid in wanted:
                try:
                    out[uid] = self.box.get_bytes(key)
                except KeyError:  # deleted by a person meanwhile
                    continue
        return out

    def mark_processed(self, uids: list[int], quarantined: frozenset[int] = frozenset()) -> None:
        """Nothing to do: the ledger is the record, and the mail stays where a person expects it."""

    def unmarked(self, last_uid: int, first_uid: int = 1) -> list[int]:
        """Nothing is ever marked in a Maildir, so nothing is left unmarked."""
        return []

    def flag_answered(self, uidvalidity: int, uid: int, message_id: str) -> None:
        key = self._key(uid) if uidvalidity == self.uidvalidity() else None
        if key is None or key not in self.box:
            return
        msg = self.box.get_message(key)
        msg.add_flag("R")
        self.box[key] = msg

    def _sent(self) -> mailbox.Maildir:
        return (
            self.box.add_folder("Sent")
            if "Sent" not in self.box.list_folders()
            else self.box.get_folder("Sent")
        )

    def append_sent(self, raw: bytes, pending: bool = False) -> None:
        # Maildir has no keywords: a copy without the Seen flag is a pending one.
        msg = mailbox.MaildirMessage(raw)
        msg.set_flags("" if pending else "S")
        msg.set_subdir("cur")
        self._sent().add(msg)

    def _sent_keys(self, message_id: str) -> list[str]:
        sent = self._sent()
        found = []
        for key in sent.iterkeys():
            with sent.get_file(key) as fh:
                if (_HEADERS.parse(fh).get("Message-ID") or "").strip() == message_id:
                    found.append(key)
        return found

    def confirm_sent(self, message_id: str) -> None:
        sent = self._sent()
        for key in self._sent_keys(message_id):
            msg = sent.get_message(key)
            msg.add_flag("S")
            sent[key] = msg

    def discard_pending(self, message_id: str) -> None:
        sent = self._sent()
        for key in self._sent_keys(message_id):
            if "S" not in sent.get_message(key).get_flags():
                sent.remove(key)

    def sent_status(self, message_id: str) -> str | None:
        keys = self._sent_keys(message_id)
        if not keys:
            return None
        sent = self._sent()
        return "sent" if any("S" in sent.get_message(k).get_flags() for k in keys) else "pending"

    def close(self) -> None:
        self.box.close()
