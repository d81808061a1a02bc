"""The fetch stage: read new mail from the mailbox and hand each message to ingestion.

Non-destructive and incremental: messages are read by UID without being
marked seen (people reading the same mailbox lose nothing), only UIDs above
the stored high-water mark are asked for, in batches, and the mailbox is
touched (flag or move) only after the messages and their outcome are
committed.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select

from bot import faults
from bot.ingest import Fetched, ingest_batch
from bot.pool import PoolBroken, PreparePool, own_share
from bot.prepare import Prepared, prepare
from bot.services import Services
from bot.sources import MailSource, open_source
from bot.store import FolderState, Inquiry, InquiryState

log = logging.getLogger(__name__)

DEFAULT_BATCH = 100
# SEARCHes of one fetch at most: a steady stream is left to the next fetch, not chased for ever.
MAX_ROUNDS = 10


@dataclass
class FetchReport:
    """What one fetch cycle did: how many messages, and the state each ended in."""

    fetched: int = 0
    states: Counter[str] = field(default_factory=Counter)
    uidvalidity_changed: bool = False

    def summary(self) -> str:
        resync = " (UIDVALIDITY changed: the folder was re-read; mail already handled is not answered again)"
        note = resync if self.uidvalidity_changed else ""
        if not self.fetched:
            return f"fetch: no new mail{note}"
        parts = ", ".join(f"{n} {state}" for state, n in sorted(self.states.items()))
        return f"fetch: {self.fetched} new message(s): {parts}{note}"


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
        if not _fetch_uids(services, source, uidvalidity, uids, batch_size, report, stop):
            break
        last = uids[-1]
    return report


def _fetch_uids(
    services: Services,
    source: MailSource,
    uidvalidity: int,
    uids: list[int],
    batch_size: int,
    report: FetchReport,
    stop: threading.Event | None,
) -> bool:
    """Fetch and ingest ``uids`` in batches; False when ``stop`` ended it early.

    With worker processes the batches overlap: while the workers prepare one
    batch, this process fetches the next and records the one before.
    """
    pending: _Batch | None = None
    for start in range(0, len(uids), batch_size):
        if stop is not None and stop.is_set():
            # The rest stays above the high-water mark for the next fetch.
            log.info("stopping: %d message(s) left for the next fetch", len(uids) - start)
            if pending:
                _record(services, source, pending, report)
            return False
        batch = uids[start : start + batch_size]
        try:
            fetched = source.fetch(batch)
        except Exception:
            # The batch in hand was fetched whole before this failed: keep it.
            if pending:
                _record_anyway(services, source, pending, report)
            raise
        # A UID missing from the FETCH was expunged between SEARCH and FETCH.
        items = [Fetched(source.name, uidvalidity, uid, fetched[uid]) for uid in batch if uid in fetched]
        now = datetime.now(UTC)
        pool = services.prepare_pool() if len(items) >= services.config.ingest.pool_min_batch else None
        own = own_share(len(items), pool.processes) if pool else len(items)
        results = _submit(pool, items[own:], now)
        earlier: frozenset[str] = frozenset()
        if pending:
            _record(services, source, pending, report)
            if results is not None:  # being prepared already: it could not see that batch
                earlier = _senders(services, source, pending)
        pending = _Batch(items, now, results, earlier)
        if results is None:  # prepared in place, when the batch before it is in the ledger
            _record(services, source, pending, report)
            pending = None
        else:  # this process's own share, while the workers prepare theirs
            pending.own = _prepare_here(services, items[:own], now)
    if pending:
        _record(services, source, pending, report)
    return True


@dataclass
class _Batch:
    """A fetched batch: what the worker processes make of it (None: prepare in place), and the
    senders of the batch recorded while this one was being prepared (to be decided again)."""

    items: list[Fetched]
    now: datetime
    results: Callable[[], list[Prepared]] | None  # for the items after ``own``
    earlier: frozenset[str] = frozenset()
    own: list[Prepared] = field(default_factory=list)  # prepared here: the first items


def _submit(
    pool: PreparePool | None, items: list[Fetched], now: datetime
) -> Callable[[], list[Prepared]] | None:
    if pool is None:
        return None
    try:
        return pool.submit([item.raw for item in items], now)
    except PoolBroken:
        return None  # logged by the pool


def _prepare_here(services: Services, items: list[Fetched], now: datetime) -> list[Prepared]:
    with services.store.session() as s:  # reads only
        return prepare(services, s, [item.raw for item in items], now)


def _record_anyway(services: Services, source: MailSource, batch: _Batch, report: FetchReport) -> None:
    try:
        _record(services, source, batch, report)
    except Exception as exc:  # noqa: BLE001 - the fetch's own error is the one to report
        # Only the type: a database error's text can quote the message it was storing.
        log.error(
            "could not record the batch in hand: %s", type(exc).__name__, extra={"event": "record_failed"}
        )


def _record(services: Services, source: MailSource, batch: _Batch, report: FetchReport) -> None:
    """Record ``batch`` in one transaction, then mark it in the mailbox."""
    prepared = None
    if batch.results is not None:
        with contextlib.suppress(PoolBroken):  # logged by the pool; then prepared in place below
            prepared = batch.own + batch.results()
    with services.store.session() as s:
        done = ingest_batch(
            services, s, batch.items, now=batch.now, prepared=prepared, earlier_senders=batch.earlier
        )
        faults.point("ingest:before-commit")
    stored = [item.uid for item, _ in done]
    quarantined = {item.uid for item, state in done if state == InquiryState.QUARANTINED}
    report.fetched += len(done)
    report.states.update(state for _, state in done)
    # Committed: only now is it safe to touch the mailbox.
    faults.point("ingest:after-commit")
    source.mark_processed(stored, frozenset(quarantined))


def _senders(services: Services, source: MailSource, batch: _Batch) -> frozenset[str]:
    """The senders of ``batch``, as recorded."""
    with services.store.session() as s:
        return frozenset(
            s.scalars(
                select(Inquiry.from_address).where(
                    Inquiry.source == source.name, Inquiry.uid.in_([item.uid for item in batch.items])
                )
            )
        )


def fetch_once(services: Services, stop: threading.Event | None = None) -> FetchReport:
    """Open the configured mailbox, fetch once (see :func:`fetch_source` for ``stop``), and close it."""
    source = open_source(services.config)
    try:
        return fetch_source(services, source, stop)
    finally:
        source.close()
