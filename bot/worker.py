"""The worker: APScheduler jobs that fetch and send on their intervals until stopped.

Each job has ``max_instances=1`` (a slow fetch is never overlapped by the
next) and ``coalesce`` (missed runs after a pause collapse into one). A job
that fails is logged and retried at its next interval; the worker goes on.
SIGTERM and SIGINT stop it cleanly: the job in hand finishes first.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable

from apscheduler.schedulers.background import BackgroundScheduler

from bot.fetch import fetch_once
from bot.send import send_once
from bot.services import Services

log = logging.getLogger(__name__)


def _guarded(name: str, fn: Callable[[], object]) -> Callable[[], None]:
    def job() -> None:
        try:
            result = fn()
            summary = getattr(result, "summary", None)
            if summary:
                log.info("%s", summary(), extra={"event": f"{name}_done"})
        except Exception as exc:  # noqa: BLE001 - the next run tries again
            log.error("%s failed: %s: %s", name, type(exc).__name__, exc, extra={"event": f"{name}_error"})

    return job


def build_scheduler(services: Services) -> BackgroundScheduler:
    """A scheduler with the fetch and send jobs (not started)."""
    sched = BackgroundScheduler(
        job_defaults={"max_instances": 1, "coalesce": True, "misfire_grace_time": 300}
    )
    every = services.config.schedule
    sched.add_job(
        _guarded("fetch", lambda: fetch_once(services)),
        "interval",
        seconds=every.fetch_seconds,
        id="fetch",
        next_run_time=_now(),
    )
    sched.add_job(
        _guarded("send", lambda: send_once(services)),
        "interval",
        seconds=every.send_seconds,
        id="send",
        next_run_time=_now(),
    )
    return sched


def _now():  # type: ignore[no-untyped-def]
    from datetime import datetime

    return datetime.now().astimezone()


def run_worker(services: Services, stop: threading.Event | None = None) -> None:
    """Run the jobs until ``stop`` is set or SIGTERM/SIGINT arrives; waits for running jobs."""
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
    sched = build_scheduler(services)
    sched.start()
    log.info("worker started", extra={"event": "worker_started"})
    try:
        stop.wait()
    finally:
        sched.shutdown(wait=True)
        log.info("worker stopped", extra={"event": "worker_stopped"})
