"""The fetch stage: read new mail from the mailbox and hand each message to ingestion.

Non-destructive and incremental: messages are read by UID without being
marked seen (people reading the same mailbox lose nothing), only UIDs above
the stored high-water mark are asked for, in batches, and the mailbox is
touched (flag or move) only after the messages and their outcome are
committed.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy import select

from bot.batches import FetchReport, ingest_uids
from bot.services import Services
from bot.sources import MailSource, open_source
from bot.store import FolderState, Inquiry, InquiryState

__all__ = ["DEFAULT_BATCH", "FetchReport", "fetch_once", "fetch_source"]

log = logging.getLogger(__name__)

DEFAULT_BATCH = 100
# SEARCHes of one fetch at most: a steady stream is left to the next fetch, not chased for ever.
MAX_ROUNDS = 10


def _high_water(services: Services, source: str, uidvalidity: int, report: FetchReport) -> int:
    """The last UID stored for this folder; resets (and says so) when UIDVALIDITY changed."""
    with services.store.session() as s:
        state = s.scalar(select(FolderState).where(FolderState.source == source))
        if state is None:
            return 0
        if state.uidvalidity != uidvalidity:
            # The server renumbered the folder: every message is new by UID, and
            # ingestion recognises the ones already handled by their Message-ID.
            log.warning("UIDVALIDITY changed, re-syncing", extra={"event": "uidvalidity_changed"})
            report.uidvalidity_changed = True
            state.uidvalidity, state.last_uid = uidvalidity, 0
            return 0
        return state.last_uid


def _mark_leftovers(services: Services, source: MailSource, uidvalidity: int, last: int, batch: int) -> None:
    """Flag (and move) mail stored before a crash cut off its marking: the ledger has it, the mailbox not.

    Only the last committed batch can be in that state, so only its UIDs are asked
    about: the search stays as cheap in a mailbox of 100,000 as in one of 100.
    """
    leftovers = source.unmarked(last, max(1, last - batch + 1))
    if not leftovers:
        return
    with services.store.session() as s:
        rows = s.execute(
            select(Inquiry.uid, Inquiry.state).where(
                Inquiry.source == source.name, Inquiry.uidvalidity == uidvalidity, Inquiry.uid.in_(leftovers)
            )
        ).all()
    stored = [uid for uid, _ in rows]
    quarantined = frozenset(uid for uid, state in rows if state == InquiryState.QUARANTINED)
    log.info("marking %d message(s) stored before an interruption", len(stored), extra={"count": len(stored)})
    source.mark_processed(stored, quarantined)


def fetch_source(services: Services, source: MailSource, stop: threading.Event | None = None) -> FetchReport:
    """One incremental pass over an open source; when ``stop`` is set it ends after the batch in hand."""
    report = FetchReport()
    if (pool := services.prepare_pool()) is not None:
        pool.close_if_idle()  # every poll asks, so that a quiet mailbox lets them go
    uidvalidity = source.uidvalidity()
    last = _high_water(services, source.name, uidvalidity, report)
    batch_size = services.config.imap.batch_size if services.config.imap else DEFAULT_BATCH
    _mark_leftovers(services, source, uidvalidity, last, batch_size)
    # Mail that arrives while a fetch runs is announced in the replies to the fetch's
    # own commands, and IDLE never announces it again: without asking once more it
    # would wait for the next poll (a minute). So SEARCH again until nothing is new.
    for _ in range(MAX_ROUNDS):
        uids = source.new_uids(last)
        if not uids:
            break
        if not ingest_uids(services, source, uidvalidity, uids, batch_size, report, stop):
            break
        last = uids[-1]
    return report


def fetch_once(services: Services, stop: threading.Event | None = None) -> FetchReport:
    """Open the configured mailbox, fetch once (see :func:`fetch_source` for ``stop``), and close it."""
    source = open_source(services.config)
    try:
        return fetch_source(services, source, stop)
    finally:
        source.close()
