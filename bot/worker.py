"""The worker: APScheduler jobs that fetch and send on their intervals until stopped.

Jobs: fetch (polling; IDLE fetches at once, see below), send, urgent alerts
and reminders, the daily digest, and the retention purge. Each job has
``max_instances=1`` (a slow fetch is never overlapped by the
next) and ``coalesce`` (missed runs after a pause collapse into one). A job
that fails is logged and retried at its next interval; the worker goes on.
SIGTERM and SIGINT stop it cleanly: the job in hand finishes first.

New mail is fetched as soon as IMAP IDLE announces it (bot/idle.py); the
polling job is the fallback for servers without IDLE and the periodic
full check for those with it.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from datetime import datetime

from apscheduler.schedulers.background import BackgroundScheduler

from bot.fetch import fetch_once, fetch_source
from bot.idle import IdleWatcher, SerialRunner
from bot.notify import alert_urgent, digest
from bot.retention import purge
from bot.send import send_once
from bot.services import Services
from bot.sources.imap_source import ImapSource

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


class Fetcher:
    """Fetch through one :class:`SerialRunner`, from IDLE's connection or a fresh one."""

    def __init__(self, services: Services, stop: threading.Event | None = None) -> None:
        self.services = services
        self.runner = SerialRunner()
        # Set when the worker stops: a fetch ends after its batch in hand, not after the backlog.
        self.stop = stop

    def poll(self) -> None:
        """The scheduled full check, on its own connection."""
        self.runner.run(lambda: self._log(fetch_once(self.services, self.stop)))

    def on_idle(self, client) -> None:  # type: ignore[no-untyped-def]
        """Called by the IDLE watcher with its connection: fetch on it, no new login."""
        cfg = self.services.config.imap
        self.runner.run(
            lambda: self._log(
                fetch_source(self.services, ImapSource(client, cfg, owns_client=False), self.stop)
            )
        )

    def _log(self, report) -> None:  # type: ignore[no-untyped-def]
        if report.fetched:
            log.info("%s", report.summary(), extra={"event": "fetch_done", "count": report.fetched})
        if report.states.get("escalated"):
            alert_urgent(self.services)  # at once, not at the next urgent-job tick


def build_scheduler(services: Services, fetcher: Fetcher | None = None) -> BackgroundScheduler:
    """A scheduler with the fetch (polling) and send jobs (not started)."""
    sched = BackgroundScheduler(
        job_defaults={"max_instances": 1, "coalesce": True, "misfire_grace_time": 300}
    )
    every = services.config.schedule
    fetcher = fetcher or Fetcher(services)
    sched.add_job(
        _guarded("fetch", fetcher.poll),
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
    # Urgent mail is checked often: a person in distress must reach staff at once.
    sched.add_job(_guarded("urgent", lambda: alert_urgent(services)), "interval", seconds=15, id="urgent")
    notes = services.config.notifications
    sched.add_job(_guarded("digest", lambda: digest(services)), "cron", hour=notes.digest_hour, id="digest")
    sched.add_job(
        _guarded("purge", lambda: purge(services)),
        "cron",
        hour=services.config.retention.purge_hour,
        id="purge",
    )
    return sched


def _now() -> datetime:
    return datetime.now().astimezone()


def run_worker(services: Services, stop: threading.Event | None = None, idle: bool = True) -> None:
    """Run the jobs until ``stop`` is set or SIGTERM/SIGINT arrives; waits for running jobs."""
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())  # type: ignore[union-attr]
    services.warm_up()
    fetcher = Fetcher(services, stop)
    sched = build_scheduler(services, fetcher)
    use_idle = idle and services.config.imap is not None and services.config.mailbox.kind == "imap"
    watcher = IdleWatcher(services.config.imap, fetcher.on_idle, stop) if use_idle else None
    sched.start()
    if watcher:
        watcher.start()
    log.info("worker started", extra={"event": "worker_started"})
    try:
        stop.wait()
    finally:
        sched.shutdown(wait=True)
        if watcher:
            watcher.join(timeout=30)
        log.info("worker stopped", extra={"event": "worker_stopped"})
