"""Edits to the replies folder reach replies: at once outside a batch, from the next batch inside one.

The web app composes outside any batch, so an admin's edit shows in the
next preview; the worker wraps each batch in :func:`bot.filestamps.batch`,
within which every file is checked once, so an edit made during a batch is
seen by the next one. A batch belongs to its thread.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot import filestamps
from bot.compose import compose_reply
from bot.message import Draft, Triage
from bot.packets import build_packets, packet_file
from bot.templates import TemplateLoader
from tests.test_compose import CONFIG, REPLIES, StandInRules, fake_packets, inquiry

TICK = 0.05  # longer than the kernel's clock tick: a file written after it gets a new time
ORG = "ALS Worldwide"


@pytest.fixture
def replies(tmp_path: Path) -> Path:
    copy = tmp_path / "replies"
    shutil.copytree(REPLIES, copy)
    return copy


class Composer:
    """One long-lived loader, as the worker and the web app keep one."""

    def __init__(self, replies: Path) -> None:
        self.loader = TemplateLoader(replies, "en", ["en"])

    def __call__(self, triage: Triage) -> Draft:
        return compose_reply(
            triage,
            config=CONFIG,
            rules=StandInRules(),
            loader=self.loader,
            packets=fake_packets,
            now=datetime(2026, 11, 25, 9, 30, tzinfo=UTC),
        )


def edit(path: Path, old: str, new: str) -> None:
    time.sleep(TICK)
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def edit_everything(replies: Path) -> None:
    """A topic section, the text layout, the strings and the disclaimer, in English."""
    edit(replies / "en" / "topics" / "dosage.txt.j2", "In the Japanese studies", "In both Japanese studies")
    edit(replies / "en" / "reply.txt.j2", "{{ strings.closing }}", "P.S. Edited.\n{{ strings.closing }}")
    edit(replies / "en" / "strings.yaml", "Thank you for writing to us.", "Thanks for your email.")
    edit(replies / "en" / "disclaimer.txt", "medical advice", "medical advice (edited)")


def assert_edited(draft: Draft, edited: bool) -> None:
    for before, after in [
        ("In the Japanese studies", "In both Japanese studies"),
        ("Thank you for writing to us.", "Thanks for your email."),
    ]:
        assert (after in draft.text and after in draft.html) is edited
        assert (before in draft.text and before in draft.html) is not edited
    assert ("P.S. Edited." in draft.text) is edited
    assert ("medical advice (edited)" in draft.text) is edited


def test_edits_are_seen_at_once_outside_a_batch(replies: Path) -> None:
    compose = Composer(replies)
    assert_edited(compose(inquiry(["dosage"])), edited=False)
    assert_edited(compose(inquiry(["dosage"])), edited=False)  # a remembered section
    edit_everything(replies)
    assert_edited(compose(inquiry(["dosage"])), edited=True)


def test_edits_made_during_a_batch_are_seen_by_the_next_batch(replies: Path) -> None:
    compose = Composer(replies)
    with filestamps.batch():
        before = compose(inquiry(["dosage"]))
        edit_everything(replies)
        after = compose(inquiry(["dosage"]))
        assert (after.text, after.html) == (before.text, before.html)  # one batch, one version of the files
    with filestamps.batch():
        assert_edited(compose(inquiry(["dosage"])), edited=True)


def test_a_template_removed_during_a_batch_is_missed_from_the_next_batch(replies: Path) -> None:
    compose = Composer(replies)
    with filestamps.batch():
        assert compose(inquiry(["dosage"], "es")).language == "es"
        time.sleep(TICK)
        (replies / "es" / "topics" / "dosage.txt.j2").unlink()
        assert compose(inquiry(["dosage"], "es")).language == "es"
    with filestamps.batch():
        assert compose(inquiry(["dosage"], "es")).language == "en"


def test_a_batch_in_one_thread_leaves_other_threads_checking(replies: Path) -> None:
    compose = Composer(replies)
    seen: list[Draft] = []
    with filestamps.batch():
        compose(inquiry(["dosage"]))
        edit_everything(replies)
        web = threading.Thread(target=lambda: seen.append(compose(inquiry(["dosage"]))))
        web.start()
        web.join()
        assert_edited(compose(inquiry(["dosage"])), edited=False)
    assert_edited(seen[0], edited=True)


def test_packet_edits_are_seen_at_once_outside_and_by_the_next_batch_inside(tmp_path: Path) -> None:
    replies, out = tmp_path / "replies", tmp_path / "out"
    shutil.copytree(REPLIES / "en" / "packets", replies / "en" / "packets")
    build_packets(replies, out, ORG)
    source = replies / "en" / "packets" / "injection_information.md"

    def rebuilt_after_edit(old: str, new: str) -> None:
        edit(source, old, new)
        built = out / "en" / packet_file(replies, out, "en", "injection_information", ORG)[0]
        later = built.stat().st_mtime + 10  # newer than the built file, whatever the clock's grain
        os.utime(source, (later, later))

    first = packet_file(replies, out, "en", "injection_information", ORG)
    with filestamps.batch():
        assert packet_file(replies, out, "en", "injection_information", ORG) == first
        rebuilt_after_edit("Avoid alcohol", "Please avoid alcohol")
        assert packet_file(replies, out, "en", "injection_information", ORG) == first
    second = packet_file(replies, out, "en", "injection_information", ORG)
    assert second[1] != first[1]
    rebuilt_after_edit("Please avoid alcohol", "Kindly avoid alcohol")
    assert packet_file(replies, out, "en", "injection_information", ORG)[1] not in (first[1], second[1])


def test_each_path_is_stated_once_per_batch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "file.txt"
    path.write_text("x", encoding="utf-8")
    calls: list[object] = []
    real = os.stat
    monkeypatch.setattr(filestamps.os, "stat", lambda p: calls.append(p) or real(p))
    filestamps.stamp(path)
    filestamps.stamp(path)
    assert len(calls) == 2  # outside a batch every call looks
    with filestamps.batch():
        first = filestamps.stamp(path)
        with filestamps.batch():  # a nested batch shares the outer one's memory
            assert filestamps.stamp(path) == first
        assert filestamps.stamp(tmp_path / "missing") is None
        assert filestamps.stamp(tmp_path / "missing") is None
    assert len(calls) == 4
    assert filestamps.batch_memory() is None
