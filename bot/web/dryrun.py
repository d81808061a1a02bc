"""The dry run: what proposed rules would change, before anything is saved.

No Flask here: the web editor calls it, and so could a command. Two runs,
each triaging the same messages with the live rules (*before*) and the
proposed ones (*after*), with the same context on both sides so only the
rules make a difference:

* :func:`dry_run_inquiries` re-triages the stored inquiries (``Inquiry.raw``)
  of the last N days. History and conversation look-ups are left out on
  both sides: they do not depend on the rules.
* :func:`dry_run_corpus` runs ``rules test``'s own code over a corpus folder
  (:func:`bot.commands.rules.run_corpus`, :func:`~bot.commands.rules.classifier`
  and :func:`~bot.commands.rules.score`), so its figures are the command's.

A :class:`Change` carries the subject and the matched words only, never the
body. Nothing is written anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from bot.commands.rules import Outcome, Report, classifier, outcome, run_corpus, score
from bot.message import Triage
from bot.parse import parse_message
from bot.store import Inquiry, InquiryState, Store
from bot.triage import TriageContext, triage_message

MAX_INQUIRIES = 2000  # a dry run answers while the admin waits: the newest ones count most


@dataclass(frozen=True)
class Verdict:
    """What triage decided for one message, with the words that made each topic match."""

    language: str | None
    topics: tuple[str, ...]
    action: str
    matched: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @classmethod
    def of(cls, triage: Triage) -> Verdict:
        o = outcome(triage)
        hits = tuple((h.topic_id, tuple(h.matched)) for h in triage.topics.hits)
        return cls(o.language, tuple(o.topics), o.action, hits)

    @property
    def outcome(self) -> Outcome:
        return Outcome(self.language, self.topics, self.action)


@dataclass(frozen=True)
class Change:
    """One message the proposed rules would treat differently; ``ref`` is an inquiry id or a file name."""

    ref: str
    subject: str
    before: Verdict
    after: Verdict
    expected: dict | None = None

    @property
    def what(self) -> tuple[str, ...]:
        """Which of topics, language and action change."""
        b, a = self.before, self.after
        pairs = (("topics", set(b.topics), set(a.topics)), ("language", b.language, a.language))
        return tuple(n for n, x, y in (*pairs, ("action", b.action, a.action)) if x != y)


@dataclass
class DryRun:
    """The outcome of one run: how many messages were checked and which would change."""

    checked: int = 0
    changes: list[Change] = field(default_factory=list)
    unreadable: int = 0
    limited: bool = False
    report_before: Report | None = None
    report_after: Report | None = None


def compare(raw: bytes, before: TriageContext, after: TriageContext) -> tuple[str, Verdict, Verdict]:
    """(subject, before, after) for one message; raises what ``parse_message`` raises."""
    msg = parse_message(raw)
    return msg.subject, Verdict.of(triage_message(msg, before)), Verdict.of(triage_message(msg, after))


def dry_run_inquiries(
    store: Store,
    days: int,
    before: TriageContext,
    after: TriageContext,
    *,
    limit: int = MAX_INQUIRIES,
    now: datetime | None = None,
) -> DryRun:
    """Stored inquiries received in the last ``days`` days, newest first, at most ``limit``."""
    since = (now or datetime.now(UTC)) - timedelta(days=days)
    run = DryRun()
    with store.session() as s:
        rows = s.execute(
            select(Inquiry.id, Inquiry.raw)
            .where(Inquiry.received_at >= since, Inquiry.state != InquiryState.DUPLICATE.value)
            .order_by(Inquiry.received_at.desc(), Inquiry.id.desc())
            .limit(limit + 1)
        ).all()
    run.limited = len(rows) > limit
    for inquiry_id, raw in rows[:limit]:
        if not raw:
            continue
        try:
            subject, b, a = compare(raw, before, after)
        except Exception:  # noqa: BLE001 - a message triage cannot read is counted, not fatal
            run.unreadable += 1
            continue
        run.checked += 1
        if b.outcome != a.outcome:
            run.changes.append(Change(str(inquiry_id), subject, b, a))
    return run


def dry_run_corpus(directory: Path, before: TriageContext, after: TriageContext) -> DryRun | None:
    """The corpus with its ``expected.json``, scored as ``rules test`` does; None without one."""
    if not (directory / "expected.json").is_file():
        return None
    expected, got_before, _ = run_corpus(directory, classifier(before))
    _, got_after, _ = run_corpus(directory, classifier(after))
    run = DryRun(checked=len(got_after))
    run.report_before, run.report_after = score(expected, got_before), score(expected, got_after)
    for name in sorted(got_after):
        if got_before.get(name) != got_after[name]:
            # Only the few changed files are triaged again, for their subject and matched words.
            subject, b, a = compare((directory / name).read_bytes(), before, after)
            run.changes.append(Change(name, subject, b, a, expected.get(name)))
    return run
