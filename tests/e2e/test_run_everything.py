"""``python run.py`` with no command runs the worker and the web app together and stops on SIGTERM."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MAIL = Path(__file__).parent / "mail"
pytestmark = pytest.mark.e2e


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.read()
    except OSError:
        return 0, b""


def test_worker_and_web_app_run_together_and_stop_cleanly(dovecot, tmp_config) -> None:
    data = tmp_config(schedule={"fetch_seconds": 300})  # IDLE, not polling, must bring the mail in
    path = tmp_config.write(data)
    base = f"http://127.0.0.1:{data['web']['port']}"
    proc = subprocess.Popen(
        [sys.executable, "run.py", "--config", str(path)],
        cwd=REPO, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while _get(f"{base}/healthz")[0] != 200:
            assert time.monotonic() < deadline and proc.poll() is None, "the web app never answered"
            time.sleep(0.2)
        time.sleep(1.5)  # let the IDLE watcher settle on the folder
        dovecot.deliver("support@example.org", (MAIL / "spanish_prescription_question.eml").read_bytes())
        deadline = time.monotonic() + 15
        while b"helpdesk_messages_drafted_total 1.0" not in _get(f"{base}/metrics")[1]:
            assert time.monotonic() < deadline, "the worker did not draft the new inquiry"
            time.sleep(0.2)
        status, body = _get(f"{base}/healthz")
        assert status == 200 and json.loads(body)["status"] == "ok"

        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
        assert proc.returncode == 0, out
        assert time.monotonic() - started < 15
        assert _get(f"{base}/healthz")[0] == 0  # the web app is gone too
    finally:
        if proc.poll() is None:
            proc.kill()
