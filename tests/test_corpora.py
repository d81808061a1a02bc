"""Parse and screen survive real mail: the public corpora under shared/corpora.

Every file in them goes through parse_message and screen; the only
exception allowed is ParseError (counted, by reason, and printed). Every
bounce must come out ignored:

- sisimai-set-of-emails: everything under ``maildir/`` except ``maildir/not/``
  (its SOURCE.md: bounces, ARF reports, a few auto-replies; none is a person's
  inquiry). ``not/`` holds mail sisimai must not treat as a bounce.
- flufl-bounce: every ``data/*.txt`` but ``groupwise_03.txt``, which
  flufl.bounce's own tests list as "Not a bounce but has confused groupwise"
  (it is a hotel clerk's reply, and must not be ignored either).

The corpora are read-only and sit beside the checkout (``../shared/corpora``).
Run with ``-s`` to see the counts.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot.message import ParsedMessage, ScreenResult
from bot.parse import ParseError, parse_message
from bot.screen import screen

CORPORA = Path(__file__).resolve().parents[1].parent / "shared" / "corpora"
OURS = frozenset({"help@alsb12.example.org"})
# Not mail: the corpora's own notes and any code that came with them.
NOT_MAIL = frozenset({".md", ".rb", ".py", ".yml", ".yaml", ".json"})
NOT_BOUNCES = frozenset(
    {
        "flufl-bounce/data/groupwise_03.txt",
        "sisimai-set-of-emails/maildir/not/is-not-bounce-01.eml",
        "sisimai-set-of-emails/maildir/not/is-not-bounce-02.eml",
    }
)


def test_the_shared_corpora_are_beside_the_checkout() -> None:
    # Never skipped: CI lays shared/ beside every checkout, so a missing folder is a broken set-up.
    assert CORPORA.is_dir(), f"{CORPORA} is missing: shared/ must sit beside the checkout"
    assert sum(1 for p in CORPORA.rglob("*") if p.is_file()) > 1000


def is_bounce(name: str) -> bool:
    if name in NOT_BOUNCES:
        return False
    sisimai = name.startswith("sisimai-set-of-emails/maildir/") and "/maildir/not/" not in name
    return sisimai or (name.startswith("flufl-bounce/data/") and name.endswith(".txt"))


@dataclass
class Run:
    """Every corpus file's outcome, computed once for the module."""

    files: list[str] = field(default_factory=list)
    parsed: dict[str, ParsedMessage] = field(default_factory=dict)
    screened: dict[str, ScreenResult] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)  # name -> ParseError reason
    crashed: dict[str, str] = field(default_factory=dict)  # name -> any other exception
    seconds: float = 0.0


@pytest.fixture(scope="module")
def run() -> Run:
    result = Run()
    started = time.perf_counter()
    for path in sorted(p for p in CORPORA.rglob("*") if p.is_file()):
        if path.suffix.lower() in NOT_MAIL:
            continue
        name = path.relative_to(CORPORA).as_posix()
        result.files.append(name)
        try:
            msg = parse_message(path.read_bytes())
            result.screened[name] = screen(msg, OURS)
            result.parsed[name] = msg
        except ParseError as exc:
            result.refused[name] = exc.reason
        except Exception as exc:  # noqa: BLE001 - this is what the test is looking for
            result.crashed[name] = f"{type(exc).__name__}: {exc}"
    result.seconds = time.perf_counter() - started
    return result


def test_every_file_parses_or_is_refused_with_a_reason(run: Run) -> None:
    reasons = Counter(run.refused.values())
    print(f"\n{len(run.files)} corpus files in {run.seconds:.1f} s: {len(run.parsed)} parsed, "
          f"{len(run.refused)} ParseError, {len(run.crashed)} other exceptions")  # fmt: skip
    for reason, count in reasons.most_common():
        print(f"  ParseError x{count}: {reason}")
    assert len(run.files) > 1000, "the corpora were not found where expected"
    assert not run.crashed, "\n".join(f"{name}: {error}" for name, error in sorted(run.crashed.items()))


def test_real_mail_is_not_refused(run: Run) -> None:
    # Only files that are no mail at all may be refused: header-less reply bodies,
    # HTML fragments, sound files and one Outlook .msg.
    refused_mail = [n for n in run.refused if n.endswith(".eml") or "maildir" in n or "flufl" in n]
    assert not refused_mail, refused_mail


def test_every_bounce_is_ignored(run: Run) -> None:
    bounces = [name for name in run.files if is_bounce(name)]
    missed = [name for name in bounces if name not in run.screened or not run.screened[name].ignore]
    print(f"\nbounces ignored: {len(bounces) - len(missed)} of {len(bounces)}; missed {len(missed)}")
    rules = Counter(r.rule for name in bounces if name in run.screened for r in run.screened[name].reasons)
    print("  rules fired on bounces: " + ", ".join(f"{rule} {n}" for rule, n in rules.most_common()))
    assert len(bounces) > 900, "the bounce corpora were not found where expected"
    assert not missed, "bounces not ignored:\n" + "\n".join(
        f"{name}: {run.parsed[name].subject!r}" if name in run.parsed else f"{name}: {run.refused.get(name)}"
        for name in missed
    )


def test_known_non_bounces_are_not_ignored(run: Run) -> None:
    for name in NOT_BOUNCES:
        assert name in run.screened, name
        assert not run.screened[name].ignore, (name, [str(r) for r in run.screened[name].reasons])


def test_parsed_strings_are_storable(run: Run) -> None:
    # Whatever the mail held, what goes to the database has no NUL and no lone surrogate.
    for name, msg in run.parsed.items():
        for text in (msg.subject, msg.from_name, msg.from_address, msg.text, msg.new_text, msg.quoted_text):
            assert "\x00" not in text, name
            text.encode("utf-8")
        for key, value in msg.headers:
            (key + value).encode("utf-8")
