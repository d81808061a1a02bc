"""The composer's memory of the replies folder: kept while unchanged, never trusted when just changed."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from bot import filestamps
from bot.templates import TemplateLoader
from tests.test_compose import REPLIES, compose, inquiry

# File times move with the kernel's clock tick (at most 10 ms): waiting longer
# than that between two changes guarantees the second gets a new time.
TICK = 0.05


@pytest.fixture
def replies(tmp_path: Path) -> Path:
    copy = tmp_path / "replies"
    shutil.copytree(REPLIES, copy)
    return copy


@pytest.fixture
def settled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every file looks older than the settling time, so answers are kept."""
    real = time.time_ns
    monkeypatch.setattr(filestamps.time, "time_ns", lambda: real() + 10 * filestamps.SETTLE_NS)


def counting(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = TemplateLoader._choose  # the work behind choose_language's memory

    def choose(self, order, names):  # type: ignore[no-untyped-def]
        calls.append(order[0])
        return real(self, order, names)

    monkeypatch.setattr(TemplateLoader, "_choose", choose)
    return calls


def test_fresh_changes_are_seen_at_once(replies: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = counting(monkeypatch)
    assert compose(inquiry(["dosage"], "es"), replies).language == "es"
    (replies / "es" / "topics" / "dosage.txt.j2").unlink()
    assert compose(inquiry(["dosage"], "es"), replies).language == "en"
    (replies / "en" / "disclaimer.txt").write_text("A new disclaimer: no medical advice.\n", encoding="utf-8")
    assert "A new disclaimer" in compose(inquiry(["dosage"]), replies).text
    assert len(calls) == 3  # just-changed folders are never answered from memory


def test_answers_are_kept_while_nothing_changes(
    replies: Path, monkeypatch: pytest.MonkeyPatch, settled: None
) -> None:
    calls = counting(monkeypatch)
    for _ in range(3):
        assert compose(inquiry(["dosage"], "es"), replies).language == "es"
    assert len(calls) == 1
    time.sleep(TICK)
    (replies / "es" / "topics" / "dosage.txt.j2").unlink()  # the topics folder changes
    assert compose(inquiry(["dosage"], "es"), replies).language == "en"
    time.sleep(TICK)
    (replies / "es" / "topics" / "dosage.txt.j2").write_text("Dosis.\n", encoding="utf-8")
    assert compose(inquiry(["dosage"], "es"), replies).language == "es"
    assert len(calls) == 3


def test_a_new_language_folder_is_noticed(
    replies: Path, monkeypatch: pytest.MonkeyPatch, settled: None
) -> None:
    assert compose(inquiry(["dosage"], "pt"), replies).language == "en"
    time.sleep(TICK)
    shutil.copytree(replies / "es", replies / "pt")  # the replies folder changes
    assert compose(inquiry(["dosage"], "pt"), replies).language == "pt"


def test_disclaimer_edits_are_seen(replies: Path, settled: None) -> None:
    path = replies / "en" / "disclaimer.txt"
    before = compose(inquiry(["dosage"]), replies).text
    assert compose(inquiry(["dosage"]), replies).text == before
    time.sleep(TICK)
    path.write_text("We give no medical advice; talk to your doctor.\n", encoding="utf-8")
    assert compose(inquiry(["dosage"]), replies).text.endswith(
        "We give no medical advice; talk to your doctor.\n"
    )
    time.sleep(TICK)
    path.unlink()
    with pytest.raises(Exception, match="disclaimer"):
        compose(inquiry(["dosage"]), replies)
