"""Fetched mail in batches: prepare, record in one transaction each, then mark in the mailbox.

Without worker processes each batch is prepared and recorded in turn. With
them (:mod:`bot.pool`) the batches overlap: while the workers prepare one
batch, this process fetches the next, records the one before and prepares
its own share of the batch in hand (:mod:`bot.share` learns how large that
share should be). The mailbox is touched only after a batch is committed.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select

from bot import faults
from bot.ingest import Fetched, ingest_batch
from bot.pool import Chunks, PoolBroken, PreparePool
from bot.prepare import Prepared, prepare
from bot.services import Services
from bot.sources import MailSource
from bot.store import Inquiry, InquiryState

log = logging.getLogger(__name__)


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


@dataclass
class _Batch:
    """A fetched batch: what the worker processes make of it (None: prepare in place), and the
    senders of the batch recorded while this one was being prepared (to be decided again)."""

    items: list[Fetched]
    now: datetime
    results: Chunks | None  # for the items after ``own``
    earlier: frozenset[str] = frozenset()
    own: list[Prepared] = field(default_factory=list)  # prepared here: the first items
    own_seconds: float = 0.0


def ingest_uids(
    services: Services,
    source: MailSource,
    uidvalidity: int,
    uids: list[int],
    batch_size: int,
    report: FetchReport,
    stop: threading.Event | None,
) -> bool:
    """Fetch and ingest ``uids`` in batches; False when ``stop`` ended it early."""
    pending: _Batch | None = None
    for start in range(0, len(uids), batch_size):
        began = time.perf_counter()
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
        own = pool.balancer.share(len(items)) if pool else len(items)
        results = _submit(pool, items[own:], now)
        earlier: frozenset[str] = frozenset()
        before = pending
        if before:
            recorded = _record(services, source, before, report)
            if results is not None:  # being prepared already: it could not see that batch
                earlier = recorded if recorded is not None else _senders(services, source, before)
        pending = _Batch(items, now, results, earlier)
        if results is None:  # prepared in place, when the batch before it is in the ledger
            _record(services, source, pending, report)
            pending = None
            continue
        started = time.perf_counter()  # this process's own share, while the workers prepare theirs
        pending.own = _prepare_here(services, items[:own], now)
        pending.own_seconds = time.perf_counter() - started
        if pool is not None:
            _learn(pool, pending, before, time.perf_counter() - began)
    if pending:
        _record(services, source, pending, report)
    return True


def _learn(pool: PreparePool, batch: _Batch, before: _Batch | None, seconds: float) -> None:
    """Tell the balancer how this round went: ``seconds`` in all, of which waiting for the
    workers' results of the batch ``before`` and preparing this one's own share are not fixed work."""
    waited = before.results.waited if before and before.results else 0.0
    theirs, their_seconds = 0, 0.0
    if before and before.results and before.results.worker_seconds:
        theirs, their_seconds = len(before.items) - len(before.own), before.results.worker_seconds
    fixed = max(0.0, seconds - waited - batch.own_seconds)
    pool.balancer.observe(len(batch.items), fixed, len(batch.own), batch.own_seconds, theirs, their_seconds)


def _submit(pool: PreparePool | None, items: list[Fetched], now: datetime) -> Chunks | None:
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


def _record(
    services: Services, source: MailSource, batch: _Batch, report: FetchReport
) -> frozenset[str] | None:
    """Record ``batch`` in one transaction, then mark it in the mailbox.

    Returns the batch's senders when its prepared messages say them (None
    when it had to be prepared in place: :func:`_senders` asks the ledger).
    """
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
    if prepared is None:
        return None
    return frozenset(p.msg.from_address for p in prepared if p.msg is not None)


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
