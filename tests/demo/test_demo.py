"""``python run.py demo`` runs the real pipeline with no mail server, serves the queue, and stops cleanly."""

from __future__ import annotations

import http.cookiejar
import re
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

from tests.servers import free_port

REPO = Path(__file__).resolve().parents[2]


def _wait(predicate, timeout: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _states(db: Path) -> list[str]:
    if not db.exists():
        return []
    try:
        with sqlite3.connect(db) as conn:
            return [row[0] for row in conn.execute("SELECT state FROM inquiry")]
    except sqlite3.OperationalError:  # tables not migrated yet
        return []


def test_demo_drafts_the_samples_serves_the_queue_and_stops_cleanly(tmp_path: Path) -> None:
    port = free_port()
    root = tmp_path / "demo"
    proc = subprocess.Popen(
        [sys.executable, "run.py", "demo", "--dir", str(root), "--port", str(port)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    try:
        banner = ""
        while "worker running" not in banner:
            line = proc.stdout.readline()
            assert line, f"demo exited early:\n{banner}"
            banner += line
        staff_password = re.search(r"user 'staff' password '([^']+)'", banner).group(1)

        states = _wait(lambda: (s := _states(root / "bot.db")) and len(s) == 12 and s, 60, "12 inquiries")
        assert states.count("drafted") >= 6
        assert states.count("escalated") == 2  # the emergency and the message of despair
        assert states.count("ignored") == 2  # the two out-of-office replies

        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        base = f"http://127.0.0.1:{port}"
        login_page = opener.open(f"{base}/login", timeout=10).read().decode()
        token = re.search(r'name="csrf_token" value="([^"]+)"', login_page).group(1)
        form = urllib.parse.urlencode({"csrf_token": token, "username": "staff", "password": staff_password})
        opener.open(f"{base}/login", data=form.encode(), timeout=10)
        queue = opener.open(f"{base}/queue", timeout=10)
        page = queue.read().decode()
        assert queue.status == 200
        assert "Is methylcobalamin worth trying?" in page and "Dosis de metilcobalamina" in page
        # Urgent items come first on the page.
        assert page.index("help please") < page.index("Is methylcobalamin worth trying?")

        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=20)
        assert proc.returncode == 0, out
        assert time.monotonic() - started < 15
        assert "demo: stopped" in out
    finally:
        if proc.poll() is None:
            proc.kill()
