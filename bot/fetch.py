"""The fetch stage: read new mail from the IMAP folder and hand each message to ingestion.

Non-destructive and incremental: messages are read by UID with
``BODY.PEEK[]`` (nothing is marked seen, so people reading the same mailbox
lose nothing), only UIDs above the stored high-water mark are asked for,
and the server is touched (flag or move) only after the message and its
outcome are committed.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field

from imapclient import IMAPClient
from sqlalchemy import select

from bot import imap
from bot.ingest import Fetched, ingest
from bot.services import Services
from bot.store import FolderState, Inquiry

log = logging.getLogger(__name__)

# A keyword flag on messages the bot has stored, for people reading the mailbox.
PROCESSED_FLAG = b"$HelpdeskStored"


@dataclass
class FetchReport:
    """What one fetch cycle did: how many messages, and the state each ended in."""

    fetched: int = 0
    states: Counter[str] = field(default_factory=Counter)
    uidvalidity_changed: bool = False

    def summary(self) -> str:
        if not self.fetched:
            return "fetch: no new mail"
        parts = ", ".join(f"{n} {state}" for state, n in sorted(self.states.items()))
        return f"fetch: {self.fetched} new message(s): {parts}"


def _high_water(services: Services, source: str, uidvalidity: int, report: FetchReport) -> int:
    """The last UID stored for this folder; resets (and says so) when UIDVALIDITY changed."""
    with services.store.session() as s:
        state = s.scalar(select(FolderState).where(FolderState.source == source))
        if state is None:
            return 0
        if state.uidvalidity != uidvalidity:
            # The server renumbered the folder: every message is new by UID, and
            # ingestion recognises the ones already answered by Message-ID.
            log.warning("UIDVALIDITY changed, re-syncing", extra={"event": "uidvalidity_changed"})
            report.uidvalidity_changed = True
            state.uidvalidity, state.last_uid = uidvalidity, 0
            return 0
        return state.last_uid


def new_uids(client: IMAPClient, last_uid: int) -> list[int]:
    """UIDs above ``last_uid``, ascending. ``N:*`` always returns the newest message, so filter."""
    return sorted(uid for uid in client.search(["UID", f"{last_uid + 1}:*"]) if uid > last_uid)


def fetch_folder(services: Services, client: IMAPClient, folder: str) -> FetchReport:
    """One incremental pass over ``folder`` with an open client."""
    cfg = services.config.imap
    report = FetchReport()
    info = client.select_folder(folder)
    uidvalidity = int(info[b"UIDVALIDITY"])
    source = imap.source_name(cfg, folder)
    last = _high_water(services, source, uidvalidity, report)
    uids = new_uids(client, last)
    for start in range(0, len(uids), cfg.batch_size):
        batch = uids[start : start + cfg.batch_size]
        fetched = client.fetch(batch, [b"BODY.PEEK[]"])
        stored: list[int] = []
        with services.store.session() as s:
            for uid in batch:
                data = fetched.get(uid)
                if data is None:  # expunged between SEARCH and FETCH
                    continue
                state = ingest(services, s, Fetched(source, uidvalidity, uid, data[b"BODY[]"]))
                if state is not None:
                    report.fetched += 1
                    report.states[state] += 1
                    stored.append(uid)
        # Committed: only now is it safe to touch the server.
        _mark_processed(services, client, stored)
    return report


def _mark_processed(services: Services, client: IMAPClient, uids: list[int]) -> None:
    if not uids:
        return
    try:
        client.add_flags(uids, [PROCESSED_FLAG], silent=True)
        target = services.config.imap.processed_folder
        if target:
            client.move(uids, target)
    except Exception as exc:  # noqa: BLE001 - the ledger already has them; flagging is a courtesy
        log.warning("could not flag processed mail: %s", type(exc).__name__)


def fetch_once(services: Services) -> FetchReport:
    """Connect, fetch the configured folder once, and disconnect."""
    client = imap.connect(services.config.imap)
    try:
        return fetch_folder(services, client, services.config.imap.folder)
    finally:
        imap.close(client)


def inquiry_uid(services: Services, inquiry: Inquiry) -> tuple[str, int, int]:
    """(folder, UIDVALIDITY, UID) of an inquiry, for flagging it on the server."""
    folder = inquiry.source.rsplit("/", 1)[1] if "/" in inquiry.source else services.config.imap.folder
    return folder, inquiry.uidvalidity, inquiry.uid
