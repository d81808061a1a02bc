"""``rules check [FILE]`` and ``rules test DIR``: validate rules.yaml, and measure it on a corpus.

``rules test DIR`` triages every ``.eml`` in DIR and compares the result with
``DIR/expected.json`` (``{"file.eml": {"language": "es"|null, "topics":
[...], "action": "draft"|"escalate"|"manual"|"ignore"}}``). It prints
per-topic precision and recall, micro-F1, language accuracy, urgent recall,
the false-escalation rate, action accuracy and every miss. Exit status 1
when a file has no expectation, or with ``--strict`` when a figure is below
its target (:data:`TARGETS`).

Language accuracy counts only messages whose expected action is not
``ignore``: mail screened out as sent by a machine (auto-replies, bounces)
is never language-detected, by design, so it says nothing about detection.

``--only dev|test`` scores one half of a held-out corpus, as listed in
``DIR/split.json`` (``{"dev": [...], "test": [...]}``): rules are tuned on
``dev`` and ``test`` is only measured. ``--summary`` prints the figures
without the per-file misses (what to use on ``test``, so its messages do not
leak into the tuning).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from bot.rules import RulesError, load_rules

if TYPE_CHECKING:
    from bot.message import Triage
    from bot.triage import TriageContext

URGENT = "urgent"
# The figures the corpus must reach (tests/test_corpus.py asserts the same).
TARGETS = {"language_accuracy": 0.99, "micro_f1": 0.95, "urgent_recall": 1.0, "false_escalation_max": 0.02}


@dataclass(frozen=True)
class Outcome:
    """What triage decided for one file, in the terms of expected.json."""

    language: str | None
    topics: tuple[str, ...]
    action: str


@dataclass
class Report:
    """The figures for one corpus run; see :func:`score`."""

    total: int = 0
    per_topic: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # tp, fp, fn
    micro_f1: float = 0.0
    language_accuracy: float = 0.0
    urgent_recall: float = 1.0
    false_escalation: float = 0.0
    action_accuracy: float = 0.0
    misses: list[str] = field(default_factory=list)

    def below_targets(self) -> list[str]:
        """The targets this run misses, in words."""
        out = []
        if self.language_accuracy < TARGETS["language_accuracy"]:
            out.append(f"language accuracy {self.language_accuracy:.3f} < {TARGETS['language_accuracy']}")
        if self.micro_f1 < TARGETS["micro_f1"]:
            out.append(f"micro-F1 {self.micro_f1:.3f} < {TARGETS['micro_f1']}")
        if self.urgent_recall < TARGETS["urgent_recall"]:
            out.append(f"urgent recall {self.urgent_recall:.3f} < {TARGETS['urgent_recall']}")
        if self.false_escalation > TARGETS["false_escalation_max"]:
            out.append(f"false escalations {self.false_escalation:.3f} > {TARGETS['false_escalation_max']}")
        return out


def _ratio(a: int, b: int, empty: float = 1.0) -> float:
    return a / b if b else empty


def score(expected: dict[str, dict], got: dict[str, Outcome]) -> Report:
    """Compare outcomes with expectations for the files present in both."""
    report = Report()
    counts: dict[str, list[int]] = {}
    lang_ok = lang_total = action_ok = urgent_total = urgent_found = calm_total = calm_escalated = 0
    for name in sorted(got):
        want, out = expected[name], got[name]
        report.total += 1
        want_topics, got_topics = set(want.get("topics", [])), set(out.topics)
        for topic in want_topics | got_topics:
            c = counts.setdefault(topic, [0, 0, 0])
            c[0 if topic in want_topics & got_topics else (1 if topic in got_topics else 2)] += 1
        # Machine mail is screened out before language detection: only the rest is scored.
        lang_scored = want.get("action") != "ignore"
        if lang_scored:
            lang_total += 1
            lang_ok += want.get("language") == out.language
        action_ok += want.get("action") == out.action
        if URGENT in want_topics or want.get("action") == "escalate":
            urgent_total += 1
            urgent_found += out.action == "escalate"
        else:
            calm_total += 1
            calm_escalated += out.action == "escalate"
        if (
            want_topics != got_topics
            or want.get("action") != out.action
            or (lang_scored and want.get("language") != out.language)
        ):
            report.misses.append(
                f"{name}: expected {want.get('language')} {sorted(want_topics)} {want.get('action')}"
                f" | got {out.language} {sorted(got_topics)} {out.action}"
            )
    report.per_topic = {t: (c[0], c[1], c[2]) for t, c in sorted(counts.items())}
    tp = sum(c[0] for c in counts.values())
    fp = sum(c[1] for c in counts.values())
    fn = sum(c[2] for c in counts.values())
    report.micro_f1 = _ratio(2 * tp, 2 * tp + fp + fn)
    report.language_accuracy = _ratio(lang_ok, lang_total)
    report.action_accuracy = _ratio(action_ok, report.total)
    report.urgent_recall = _ratio(urgent_found, urgent_total)
    report.false_escalation = _ratio(calm_escalated, calm_total, 0.0)
    return report


def format_report(report: Report, misses: bool = True) -> str:
    """The report as staff read it: a topic table, the headline figures, the misses (unless not wanted)."""
    lines = [f"{'topic':<20}{'precision':>10}{'recall':>8}{'tp':>5}{'fp':>5}{'fn':>5}"]
    for topic, (tp, fp, fn) in report.per_topic.items():
        lines.append(
            f"{topic:<20}{_ratio(tp, tp + fp):>10.3f}{_ratio(tp, tp + fn):>8.3f}{tp:>5}{fp:>5}{fn:>5}"
        )
    lines += [
        "",
        f"messages            {report.total}",
        f"topic micro-F1      {report.micro_f1:.3f}",
        f"language accuracy   {report.language_accuracy:.3f}",
        f"urgent recall       {report.urgent_recall:.3f}",
        f"false escalations   {report.false_escalation:.3f}",
        f"action accuracy     {report.action_accuracy:.3f}",
    ]
    if misses and report.misses:
        lines += ["", f"misses ({len(report.misses)}):", *(f"  {m}" for m in report.misses)]
    return "\n".join(lines)


def load_split(directory: Path, part: str) -> set[str]:
    """The file names of one half (``dev`` or ``test``) of ``directory/split.json``."""
    split = json.loads((directory / "split.json").read_text(encoding="utf-8"))
    return set(split[part])


def run_corpus(
    directory: Path,
    classify: Callable[[bytes], Outcome],
    progress: bool = False,
    only: set[str] | None = None,
) -> tuple[dict[str, dict], dict[str, Outcome], list[str]]:
    """Classify every .eml in ``directory`` (or those named in ``only``).

    Returns (expected, outcomes, files without an expectation).
    """
    expected = json.loads((directory / "expected.json").read_text(encoding="utf-8"))
    files = sorted(p for p in directory.glob("*.eml") if only is None or p.name in only)
    got: dict[str, Outcome] = {}
    unknown = []
    tty, step = sys.stderr.isatty(), max(1, len(files) // 10)
    for i, path in enumerate(files, 1):
        if path.name not in expected:
            unknown.append(path.name)
        else:
            got[path.name] = classify(path.read_bytes())
        # On a terminal every file redraws the bar; in a log, every tenth of the way.
        if progress and (tty or i % step == 0 or i == len(files)):
            done = int(20 * i / len(files))
            print(
                f"\r[{'#' * done}{'.' * (20 - done)}] {i}/{len(files)}", end="", file=sys.stderr, flush=True
            )
    if progress and files:
        print(file=sys.stderr)
    return expected, got, unknown


def outcome(triage: Triage) -> Outcome:
    """A triage in the terms of expected.json (the web editor's dry run uses the same)."""
    return Outcome(
        triage.language.language if triage.language else None, triage.topic_ids, triage.action.value
    )


def classifier(context: TriageContext) -> Callable[[bytes], Outcome]:
    """Classify raw mail with ``context``: what ``rules test`` and the web editor's corpus run use."""
    from bot.triage import triage_bytes

    def classify(raw: bytes) -> Outcome:
        return outcome(triage_bytes(raw, config=None, rules=context.rules, context=context))

    return classify


def _triage_classifier(args: argparse.Namespace) -> Callable[[bytes], Outcome]:
    from bot.commands._common import triage_context

    return classifier(triage_context(args))


def run_check(args: argparse.Namespace) -> int:
    try:
        rules = load_rules(args.file)
    except RulesError as exc:
        for problem in exc.problems:
            print(problem)
        return 1
    print(f"{args.file}: OK ({len(rules.topics)} topics)")
    return 0


def run_test(args: argparse.Namespace) -> int:
    directory = Path(args.dir)
    try:
        classify = _triage_classifier(args)
    except RulesError as exc:
        print(exc, file=sys.stderr)
        return 1
    if not (directory / "expected.json").is_file():
        print(f"{directory}: no expected.json", file=sys.stderr)
        return 1
    only = None
    if args.only:
        try:
            only = load_split(directory, args.only)
        except (OSError, KeyError, ValueError) as exc:
            print(f"{directory}: cannot read the {args.only!r} half of split.json: {exc}", file=sys.stderr)
            return 1
    many = len(list(directory.glob("*.eml"))) >= 20
    expected, got, unknown = run_corpus(directory, classify, progress=many, only=only)
    report = score(expected, got)
    print(format_report(report, misses=not args.summary))
    status = 0
    for name in unknown:
        print(f"{name}: not in expected.json", file=sys.stderr)
        status = 1
    if args.strict:
        for failure in report.below_targets():
            print(f"below target: {failure}", file=sys.stderr)
            status = 1
    return status


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("rules", help="check rules.yaml, or measure it on a corpus of .eml files")
    rules_sub = p.add_subparsers(dest="rules_command", metavar="SUBCOMMAND")
    check = rules_sub.add_parser("check", help="validate a rules file (no config needed)")
    check.add_argument("file", nargs="?", default="rules.yaml", metavar="FILE")
    check.set_defaults(func=run_check)
    test = rules_sub.add_parser("test", help="triage DIR/*.eml and compare with DIR/expected.json")
    test.add_argument("dir", metavar="DIR")
    test.add_argument("--rules", metavar="PATH", help="rules file (default: from config, else rules.yaml)")
    test.add_argument("--strict", action="store_true", help="exit 1 when a figure is below its target")
    test.add_argument(
        "--only", choices=("dev", "test"), help="score only this half of the files listed in DIR/split.json"
    )
    test.add_argument("--summary", action="store_true", help="print the figures only, not each miss")
    test.set_defaults(func=run_test)
    p.set_defaults(default_func=lambda args: (p.print_help(), 2)[1])
