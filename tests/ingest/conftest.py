"""Fixtures for the ingestion tests: the ledger of the test's database, and workers run as subprocesses.

The servers (``dovecot``, ``smtp_relay``) and the config factory
(``tmp_config``) come from ``tests/conftest.py``; the plain helpers (made-up
inquiries, bulk delivery, the CLI) are in :mod:`tests.ingest.helpers`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.store import Store
from tests.ingest.helpers import Ledger, Worker


@pytest.fixture
def ledger(tmp_config) -> Iterator[Ledger]:  # type: ignore[no-untyped-def]
    """The test database, created (migrated) before any bot process opens it."""
    store = Store(tmp_config()["database"]["url"])
    yield Ledger(store)
    store.close()


@pytest.fixture
def start_worker(tmp_path: Path, ledger: Ledger) -> Iterator:  # type: ignore[type-arg]
    """``start_worker(config_path, env=None)`` starts ``run.py worker``; every worker is killed at the end.

    The ledger fixture runs first so the database exists before the worker
    migrates it. Each run's output is printed at teardown, so a failing
    test shows what the worker logged.
    """
    workers: list[Worker] = []

    def start(config: Path, env: dict[str, str] | None = None) -> Worker:
        worker = Worker(config, tmp_path / f"worker-{len(workers) + 1}.log", env)
        workers.append(worker)
        return worker

    yield start
    for n, worker in enumerate(workers, start=1):
        if worker.running:
            worker.kill()
        print(f"--- worker run {n} (exit {worker.proc.returncode}) ---\n{worker.log(15)}")
