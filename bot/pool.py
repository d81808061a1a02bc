"""Worker processes for the CPU-heavy half of ingestion: parse, triage and draft.

One process owns the mailbox connection and every database write
(:mod:`bot.fetch`, :func:`bot.ingest.ingest_batch`) and prepares a small
share of each large batch itself (:mod:`bot.share`); the rest is cut into
one contiguous chunk per worker; each worker prepares its chunk with
:func:`bot.prepare.prepare`, reading the ledger through its own connection,
and the results come back in the batch's order to be recorded in one
transaction. Nothing a worker does is visible until that commit, so a
crash anywhere still stores a message completely or not at all.

Workers are spawned (a fresh interpreter), never forked from the running
process: the worker and the web app run threads, which ``fork`` does not
copy safely. A fork server would start them faster but stays resident with
every module loaded (~45 MB) for nothing once they run. A worker that dies breaks the
pool: the batch is then prepared in place and a new pool is started for the
next one.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from datetime import datetime
from multiprocessing.connection import Connection
from typing import NoReturn

from bot.config import Config
from bot.prepare import Prepared, prepare
from bot.services import Services, build_services
from bot.share import ShareBalancer

log = logging.getLogger(__name__)

# The worker process's own services (one database connection, rules, templates, packets).
_services: Services | None = None


class PoolBroken(RuntimeError):
    """A worker process died; the batch must be prepared in place."""


def cpu_count() -> int:
    """The CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


# ``ingest.processes: 0`` uses every core up to this many processes: beyond it the one process
# that fetches and records every batch cannot keep more workers busy, and each costs ~85 MB.
MAX_AUTO_PROCESSES = 4


def pool_size(config: Config) -> int:
    """How many worker processes ``config`` asks for besides the fetching process, which prepares
    a share of each batch too: ``ingest.processes`` (0: one per core, at most 4) minus one."""
    return max(0, (config.ingest.processes or min(cpu_count(), MAX_AUTO_PROCESSES)) - 1)


def _exit_with_parent(lifeline: Connection) -> None:
    # The pipe's only writer is the parent: EOF means it is gone, even killed with SIGKILL
    # (a worker must not outlive it, holding the parent's stdout open and the next run's batch).
    with contextlib.suppress(EOFError, OSError):
        lifeline.recv()
    os._exit(0)


def _start(config: Config, lifeline: Connection) -> None:
    global _services
    threading.Thread(target=_exit_with_parent, args=(lifeline,), daemon=True, name="lifeline").start()
    _services = build_services(config, upgrade=False)  # the parent migrated the database
    _services.warm_up()  # ready before the first batch


def _prepare_chunk(raws: list[bytes], now: datetime) -> tuple[float, list[Prepared]]:
    assert _services is not None, "worker not started"
    started = time.perf_counter()
    with _services.store.session() as session:
        prepared = [_slim(p) for p in prepare(_services, session, raws, now)]
    return time.perf_counter() - started, prepared


def _slim(prepared: Prepared) -> Prepared:
    # Recording needs the message's headers and the decisions, not its bodies and attachments:
    # leaving them here saves copying them back (a 100 KB attachment, decoded) for nothing.
    if prepared.msg is None:
        return prepared
    msg = replace(prepared.msg, text="", html=None, new_text="", quoted_text="", attachments=(), headers=())
    triage = replace(prepared.triage, message=msg) if prepared.triage is not None else None
    draft = prepared.draft
    if draft is not None and draft.stored:  # recorded as stored: the whole bytes would be ~40 KB more
        draft = replace(draft, raw=b"")
    return replace(prepared, msg=msg, triage=triage, draft=draft)


class PreparePool:
    """``processes`` workers preparing batches for :func:`bot.ingest.ingest_batch` (its ``prepared``)."""

    # After a worker died, batches are prepared in place for this long before new workers are
    # started: a worker that cannot start (say, the rules file became invalid after this process
    # loaded good rules) would otherwise be respawned, and fail, for every batch.
    RESTART_AFTER = 30.0

    def __init__(self, config: Config, processes: int) -> None:
        self.config, self.processes = config, processes
        self.balancer = ShareBalancer(processes)
        self._last_used = 0.0
        self._executor: ProcessPoolExecutor | None = None
        self._resting_until = 0.0

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            context = multiprocessing.get_context("spawn")
            lifeline, self._lifeline = context.Pipe(duplex=False)
            self._executor = ProcessPoolExecutor(
                self.processes, mp_context=context, initializer=_start, initargs=(self.config, lifeline)
            )
        return self._executor

    def __call__(self, raws: Sequence[bytes], now: datetime) -> list[Prepared]:
        """The prepared messages, in the order of ``raws``; raises :class:`PoolBroken` if a worker died."""
        return self.submit(raws, now)()

    def submit(self, raws: Sequence[bytes], now: datetime) -> Chunks:
        """Start preparing ``raws``; the returned call waits for the results (as :meth:`__call__`)."""
        if time.monotonic() < self._resting_until:
            raise PoolBroken("workers are restarted only after a pause")
        self._last_used = time.monotonic()
        size = -(-len(raws) // self.processes)
        chunks = [list(raws[i : i + size]) for i in range(0, len(raws), size)]
        try:
            futures = [self._pool().submit(_prepare_chunk, chunk, now) for chunk in chunks]
        except BrokenProcessPool as exc:
            self._broken(exc)
        return Chunks(self, futures)

    def _broken(self, exc: BrokenProcessPool) -> NoReturn:
        log.error("a worker process died; preparing this batch in place", extra={"event": "pool_broken"})
        self.close()
        self._resting_until = time.monotonic() + self.RESTART_AFTER
        raise PoolBroken(str(exc)) from exc

    def close_if_idle(self) -> None:
        """Stop the workers when no batch came for ``ingest.pool_idle_seconds``: a backlog is
        rare, and idle workers would hold their memory until the next one."""
        if (
            self._executor is not None
            and time.monotonic() - self._last_used > self.config.ingest.pool_idle_seconds
        ):
            log.info("worker processes stopped: idle", extra={"event": "pool_idle"})
            self.close()

    def close(self) -> None:
        """Stop the workers (they finish the chunk in hand first)."""
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
            self._lifeline.close()


class Chunks:
    """A batch being prepared by the workers: call it for the results, in the batch's order.

    After the call, ``worker_seconds`` is the time the workers spent on it
    (each worker's own time, summed) and ``waited`` how long the call
    waited for them.
    """

    def __init__(self, pool: PreparePool, futures: list[Future[tuple[float, list[Prepared]]]]) -> None:
        self.pool, self.futures = pool, futures
        self.worker_seconds = self.waited = 0.0

    def __call__(self) -> list[Prepared]:
        """The prepared messages; raises :class:`PoolBroken` if a worker died."""
        started = time.perf_counter()
        try:
            done = [future.result() for future in self.futures]
        except BrokenProcessPool as exc:
            self.pool._broken(exc)
        self.waited = time.perf_counter() - started
        self.worker_seconds = sum(seconds for seconds, _ in done)
        return [prepared for _, chunk in done for prepared in chunk]
