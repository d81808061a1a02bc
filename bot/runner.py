"""Running the worker and the staff web app together in one process (``python run.py``).

The web app is served by waitress in a thread; the worker's scheduler and
IDLE watcher run in theirs. SIGTERM or SIGINT sets one stop event: the web
server stops accepting, the worker finishes the message in hand, and both
close their connections before the process exits.
"""

from __future__ import annotations

import logging
import signal
import threading

from waitress.server import create_server

from bot.services import Services

log = logging.getLogger(__name__)


class WebServer:
    """A waitress server in a daemon thread that can be stopped."""

    def __init__(self, services: Services, host: str, port: int) -> None:
        from bot.web import create_app

        web = services.config.web.model_copy(update={"host": host, "port": port})
        app = create_app(services.config.model_copy(update={"web": web}), services)
        self.server = create_server(app, host=host, port=port, threads=8, ident="helpdesk")
        self.thread = threading.Thread(target=self.server.run, name="web", daemon=True)

    @property
    def port(self) -> int:
        return int(self.server.effective_port)

    def start(self) -> WebServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        # Closed from inside waitress's own loop: closing from this thread races its select().
        self.server.trigger.pull_trigger(self.server.close)
        self.thread.join(timeout=10)


def stop_on_signals(stop: threading.Event) -> None:
    """SIGTERM and SIGINT set ``stop`` (only possible from the main thread)."""
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())


def run_all(services: Services, host: str, port: int, stop: threading.Event | None = None) -> None:
    """Serve the web app and run the worker until ``stop`` is set or a signal arrives."""
    from bot.worker import run_worker

    stop = stop or threading.Event()
    stop_on_signals(stop)
    web = WebServer(services, host, port).start()
    print(
        f"helpdesk: staff web app on http://{host}:{web.port}/ ; worker running (Ctrl-C stops both)",
        flush=True,
    )
    try:
        run_worker(services, stop)
    finally:
        web.stop()
        log.info("web app stopped", extra={"event": "web_stopped"})
