"""The worker processes that prepare large batches: same outcome, and they never outlive or lose work."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from bot import pool as pool_module
from bot.batches import FetchReport, _Batch, _record, _senders
from bot.ingest import Fetched, ingest_batch
from bot.pool import PoolBroken, PreparePool, pool_size
from bot.share import first_guess
from bot.store import Inquiry
from tests.unit.conftest import unit_services
from tests.unit.test_batch_ingest import START, _batch, _history, _outcome

ROOT = Path(__file__).resolve().parents[2]


def test_the_pool_decides_a_batch_as_the_fetching_process_does(tmp_path: Path) -> None:
    outcomes = []
    for mode in ("in place", "pool"):
        services = unit_services(tmp_path / mode.replace(" ", "_"), screening={"daily_cap": 2})
        _history(services)
        items = [Fetched("md", 1, uid, raw) for uid, raw in enumerate(_batch(services), start=10)]
        pool = PreparePool(services.config, 2) if mode == "pool" else None
        prepared = pool([item.raw for item in items], START) if pool else None
        with services.store.session() as s:
            ingest_batch(services, s, items, now=START, prepared=prepared)
        if pool:
            pool.close()
        outcomes.append(_outcome(services))
        services.close()
    assert outcomes[1] == outcomes[0]
    assert {row[1] for row in outcomes[0]} >= {"drafted", "manual", "noted", "duplicate", "quarantined"}


def test_a_dead_worker_is_reported_and_the_next_batch_gets_a_new_pool(tmp_path: Path) -> None:
    services = unit_services(tmp_path)
    pool = PreparePool(services.config, 2)
    raws = [
        f"From: p{n}@example.com\r\nSubject: Dose\r\n\r\nWhat is the dose?\r\n".encode() for n in range(4)
    ]
    assert len(pool(raws, START)) == 4
    workers = list(pool._executor._processes)  # type: ignore[union-attr]
    for pid in workers:
        os.kill(pid, signal.SIGKILL)
    time.sleep(0.5)
    try:
        pool(raws, START)
    except PoolBroken:
        pass
    else:  # the executor may notice only at the next submission
        raise AssertionError("a pool whose workers were killed kept answering")
    with pytest.raises(PoolBroken):  # no new workers straight away: batches are prepared in place
        pool(raws, START)
    pool._resting_until = 0.0  # the pause is over
    prepared = pool(raws, START)
    assert [p.action.value for p in prepared] == ["draft"] * 4
    assert not set(pool._executor._processes) & set(workers)  # type: ignore[union-attr]
    pool.close()
    services.close()


def test_a_broken_pool_loses_nothing_the_batch_is_prepared_in_place(tmp_path: Path) -> None:
    services = unit_services(tmp_path)

    def broken() -> list[object]:
        raise PoolBroken("a worker died")

    class Source:
        name = "md"
        marked: list[int] = []

        def mark_processed(self, uids: list[int], quarantined: frozenset[int]) -> None:
            self.marked += uids

    raws = [
        f"From: p{n}@example.com\r\nSubject: Dose\r\n\r\nWhat is the dose?\r\n".encode() for n in range(25)
    ]
    items = [Fetched("md", 1, uid, raw) for uid, raw in enumerate(raws, start=1)]
    report = FetchReport()
    source = Source()
    batch = _Batch(items, START, broken)
    _record(services, source, batch, report)  # type: ignore[arg-type]
    assert report.states == {"drafted": 25} and source.marked == list(range(1, 26))
    assert _senders(services, source, batch) == {f"p{n}@example.com" for n in range(25)}  # type: ignore[arg-type]
    with services.store.session() as s:
        assert len(s.scalars(select(Inquiry.id)).all()) == 25
    services.close()


def test_workers_exit_when_the_fetching_process_is_killed(tmp_path: Path) -> None:
    script = tmp_path / "victim.py"
    script.write_text(
        f"""
import os, sys
from pathlib import Path
sys.path.insert(0, {str(ROOT)!r})
from bot.pool import PreparePool
from tests.unit.conftest import unit_services
from tests.unit.test_batch_ingest import START

if __name__ == "__main__":
    services = unit_services(Path({str(tmp_path)!r}))
    pool = PreparePool(services.config, 2)
    pool([b"From: a@example.com\\r\\nSubject: Dose\\r\\n\\r\\nWhat is the dose?\\r\\n"] * 4, START)
    print(" ".join(str(pid) for pid in pool._executor._processes), flush=True)
    os.kill(os.getpid(), 9)
"""
    )
    # stdout is a pipe: a worker that outlived its parent would keep it open and hang this run.
    proc = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    pids = [int(pid) for pid in proc.stdout.split()]
    assert len(pids) == 2
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(pid) for pid in pids):
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in pids), "a worker outlived the process that started it"


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False


def test_by_default_every_core_prepares_but_no_more_than_four_processes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = unit_services(tmp_path).config
    assert config.ingest.processes == 0
    for cores, workers in ((1, 0), (2, 1), (4, 3), (16, 3)):
        monkeypatch.setattr(pool_module, "cpu_count", lambda cores=cores: cores)
        assert pool_size(config) == workers


def test_idle_workers_stop_and_the_next_large_batch_starts_new_ones(tmp_path: Path) -> None:
    services = unit_services(tmp_path, ingest={"pool_idle_seconds": 60})
    pool = PreparePool(services.config, 1)
    raws = [
        f"From: p{n}@example.com\r\nSubject: Dose\r\n\r\nWhat is the dose?\r\n".encode() for n in range(4)
    ]
    assert len(pool(raws, START)) == 4
    workers = set(pool._executor._processes)  # type: ignore[union-attr]
    pool.close_if_idle()
    assert pool._executor is not None, "stopped although a batch came a moment ago"
    pool._last_used -= 61  # a minute later
    pool.close_if_idle()
    assert pool._executor is None
    assert not any(_alive(pid) for pid in workers)
    assert [p.action.value for p in pool(raws, START)] == ["draft"] * 4
    pool.close()
    services.close()


def test_the_fetching_process_counts_as_one_of_the_processes(tmp_path: Path) -> None:
    assert pool_size(unit_services(tmp_path / "a", ingest={"processes": 1}).config) == 0
    assert pool_size(unit_services(tmp_path / "b", ingest={"processes": 3}).config) == 2
    # Until it has measured anything it prepares half a worker's share, as it also fetches and records.
    assert first_guess(100, 1) == 33 and first_guess(100, 3) == 14


def test_workers_that_cannot_start_are_not_respawned_for_every_batch(tmp_path: Path) -> None:
    bad = tmp_path / "rules.yaml"
    bad.write_text("topics: [unclosed\n")
    services = unit_services(tmp_path, paths={"rules": str(bad), "replies": str(ROOT / "replies")})
    pool = PreparePool(services.config, 1)
    raws = [b"From: a@example.com\r\nSubject: Dose\r\n\r\nWhat is the dose?\r\n"]
    with pytest.raises(PoolBroken):
        pool(raws, START)
    started = time.monotonic()
    with pytest.raises(PoolBroken):
        pool(raws, START)
    assert time.monotonic() - started < 0.5, "a new pool was started for the next batch"
    assert pool._executor is None
    pool.close()
