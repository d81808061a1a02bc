"""IDLE and polling fetches never overlap, and a request made mid-fetch is not lost."""

from __future__ import annotations

import threading

import pytest

from bot.idle import SerialRunner, _announces_mail


def test_request_during_a_run_makes_the_run_repeat_once() -> None:
    runner = SerialRunner()
    started, release = threading.Event(), threading.Event()
    calls: list[str] = []

    def slow() -> None:
        calls.append("slow")
        started.set()
        release.wait(5)

    t = threading.Thread(target=runner.run, args=(slow,))
    t.start()
    assert started.wait(5)
    # Two requests while the first run is in progress coalesce into one more run.
    assert runner.run(lambda: calls.append("other")) is False
    assert runner.run(lambda: calls.append("other")) is False
    release.set()
    t.join(5)
    assert calls == ["slow", "slow"]


def test_runs_do_not_overlap_across_threads() -> None:
    runner = SerialRunner()
    active, overlaps = [0], [0]
    lock = threading.Lock()

    def job() -> None:
        with lock:
            active[0] += 1
            overlaps[0] = max(overlaps[0], active[0])
        threading.Event().wait(0.01)
        with lock:
            active[0] -= 1

    threads = [threading.Thread(target=runner.run, args=(job,)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert overlaps[0] == 1


def test_a_failing_run_releases_the_runner() -> None:
    runner = SerialRunner()

    def boom() -> None:
        raise RuntimeError("connection lost")

    with pytest.raises(RuntimeError):
        runner.run(boom)
    assert runner.run(lambda: None) is True


def test_only_new_mail_responses_wake_the_fetch() -> None:
    assert _announces_mail((3, b"EXISTS"))
    assert _announces_mail((1, b"RECENT"))
    assert not _announces_mail((2, b"EXPUNGE"))
    assert not _announces_mail((2, b"FETCH", (b"FLAGS", (b"\\Seen",))))
