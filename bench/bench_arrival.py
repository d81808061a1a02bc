"""Arrival to draft: how long after delivery an inquiry's draft is in the staff queue.

    python bench/bench_arrival.py [--count 200] [--rate 5]

A fresh Dovecot and SMTP relay on loopback; the bot runs as ``python run.py
worker`` in a subprocess with IDLE on and polling every 300 s (so polling
cannot explain a fast pick-up). ``--count`` realistic inquiries are
delivered over one LMTP session at ``--rate`` per second; for each, the
clock starts just before the LMTP DATA command. A poller reads the bot's
SQLite database every 5 ms (read-only, WAL) and stops the clock when the
inquiry's row is visible: the inquiry and its draft are committed in one
transaction, so that is the moment staff can see the draft. Also reported:
pick-up (delivery to the start of ingestion, ``Inquiry.received_at``).
Three warm-up messages go first (language profiles, packets built) and are
not counted.
"""

from __future__ import annotations

import argparse
import os
import signal
import smtplib
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

POLL = 0.005


class Watcher(threading.Thread):
    """Records when each Message-ID's inquiry row becomes visible in the database."""

    def __init__(self, db: Path) -> None:
        super().__init__(daemon=True)
        self.db, self.seen, self.received = db, {}, {}
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.db.exists() and not self.stop.is_set():
            time.sleep(POLL)
        conn = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=5)
        last = 0
        while not self.stop.is_set():
            try:
                rows = conn.execute(
                    "SELECT id, message_id, received_at FROM inquiry WHERE id > ? ORDER BY id", (last,)
                ).fetchall()
            except sqlite3.OperationalError:  # the schema is not there yet
                rows = []
            now = time.time()
            for ident, mid, received in rows:
                self.seen.setdefault(mid, now)
                self.received[mid] = _epoch(received)
                last = max(last, ident)
            time.sleep(POLL)
        conn.close()

    def wait(self, ids: list[str], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(i in self.seen for i in ids):
                return True
            time.sleep(0.05)
        return False


def _epoch(value: str) -> float:
    when = datetime.fromisoformat(value)
    if when.tzinfo is None:  # SQLite keeps the UTC time without its offset
        from datetime import UTC

        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def deliver(lmtp: smtplib.LMTP, raw: bytes) -> float:
    """One LMTP transaction; returns the time just before DATA."""
    code, resp = lmtp.mail("sender@example.net")
    if code != 250:
        raise RuntimeError(f"MAIL: {code} {resp!r}")
    code, resp = lmtp.rcpt(common.USER)
    if code not in (250, 251):
        raise RuntimeError(f"RCPT: {code} {resp!r}")
    started = time.time()
    code, resp = lmtp.data(raw)
    if code != 250:
        raise RuntimeError(f"DATA: {code} {resp!r}")
    return started


def run(count: int, rate: float, seed: int) -> dict[str, Any]:
    work = common.workdir("arrival")
    with common.servers() as (dovecot, relay):
        cfg = common.write_config(common.config_dict(dovecot, relay, work), work / "bot.yaml")
        log = (work / "worker.log").open("wb")
        worker = subprocess.Popen(
            [sys.executable, "run.py", "--config", str(cfg), "worker"],
            cwd=common.ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        watcher = Watcher(work / "bot.db")
        watcher.start()
        messages = common.Inquiries(seed=seed).take(count + 3)
        ids = [common.Inquiries.message_id(m) for m in messages]
        delivered: dict[str, float] = {}
        try:
            with smtplib.LMTP(dovecot.host, dovecot.lmtp_port, timeout=30) as lmtp:
                for raw in messages[:3]:  # warm-up: IDLE connected, profiles loaded, packets built
                    deliver(lmtp, raw)
                if not watcher.wait(ids[:3], 120):
                    raise RuntimeError(f"warm-up drafts never appeared; see {work / 'worker.log'}")
                time.sleep(1)
                start = time.monotonic()
                for i, raw in enumerate(messages[3:]):
                    pause = start + i / rate - time.monotonic()
                    if pause > 0:
                        time.sleep(pause)
                    delivered[ids[3 + i]] = deliver(lmtp, raw)
                sending = time.monotonic() - start
            complete = watcher.wait(ids, 60)
        finally:
            watcher.stop.set()
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(30)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
            log.close()
    latency = [(watcher.seen[m] - t) * 1000 for m, t in delivered.items() if m in watcher.seen]
    pickup = [(watcher.received[m] - t) * 1000 for m, t in delivered.items() if m in watcher.received]
    return {
        "count": count,
        "rate_per_s": rate,
        "sending_seconds": round(sending, 2),
        "complete": complete,
        "missing": count - len(latency),
        "delivery_to_queue_ms": common.stats(latency),
        "delivery_to_ingest_start_ms": common.stats(pickup),
        "poll_interval_ms": POLL * 1000,
        "loadavg_1min_after": round(os.getloadavg()[0], 2),
        "worker_log": str(work / "worker.log"),  # removed at exit unless the run failed
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--rate", type=float, default=5.0, help="messages per second")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--name", default="arrival")
    args = parser.parse_args()
    try:
        result = run(args.count, args.rate, args.seed)
    except Exception:
        os.environ["BENCH_KEEP"] = "1"  # keep the work dir: the error names the worker's log in it
        raise
    q, p = result["delivery_to_queue_ms"], result["delivery_to_ingest_start_ms"]
    print(f"{args.count} inquiries at {args.rate:g}/s over LMTP; worker on IDLE (polling every 300 s)")
    print(
        f"  delivery -> draft in queue: median {q['median']:.0f} ms, p95 {q['p95']:.0f} ms, "
        f"max {q['max']:.0f} ms"
    )
    print(f"  delivery -> ingestion starts: median {p['median']:.0f} ms, p95 {p['p95']:.0f} ms")
    if result["missing"]:
        print(f"  MISSING: {result['missing']} never reached the queue within 60 s")
    path = common.save(args.name, result)
    print(f"results: {path.relative_to(common.ROOT)}")
    if not result["complete"]:
        os.environ["BENCH_KEEP"] = "1"  # read by the exit handler: keep the worker's log
        print(f"  worker log: {result['worker_log']}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
