"""Time language detection and topic matching separately over the corpus (not a test).

    python bench/bench_triage.py [CORPUS_DIR] [--messages N]

Every .eml is parsed once; the parsed messages are repeated up to N (2,000
by default) and each stage is timed per message. Prints median and p95 in
milliseconds for each stage.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import Languages  # noqa: E402
from bot.language import detect_language  # noqa: E402
from bot.match import match_topics  # noqa: E402
from bot.message import ParsedMessage  # noqa: E402
from bot.parse import parse_message  # noqa: E402
from bot.rules import load_rules  # noqa: E402


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _time(fn, messages: list[ParsedMessage]) -> list[float]:
    out = []
    for msg in messages:
        start = time.perf_counter()
        fn(msg)
        out.append((time.perf_counter() - start) * 1000)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", default=str(ROOT / "tests" / "corpus"))
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--rules", default=str(ROOT / "rules.yaml"))
    args = parser.parse_args()

    rules = load_rules(args.rules)
    languages, available = Languages(), frozenset({"en", "es"})
    parsed = [parse_message(p.read_bytes()) for p in sorted(Path(args.corpus).glob("*.eml"))]
    if not parsed:
        print("no .eml files", file=sys.stderr)
        return 1
    messages = (parsed * (args.messages // len(parsed) + 1))[: args.messages]
    # Warm up: profiles loaded and rules compiled once per process, outside the timing.
    detect_language(parsed[0], rules, languages, available)
    _ = rules.compiled

    # First sight: each distinct message once, in a process that has seen none of them (the
    # language model caches each word's score). Then the same messages repeated, caches warm.
    detect = lambda m: detect_language(m, rules, languages, available)  # noqa: E731
    match = lambda m: match_topics(m, "en", rules)  # noqa: E731
    runs = {
        f"first sight ({len(parsed)} messages)": (_time(detect, parsed), _time(match, parsed)),
        f"repeated ({len(messages)} messages)": (_time(detect, messages), _time(match, messages)),
    }
    for label, (lang_ms, match_ms) in runs.items():
        both = [a + b for a, b in zip(lang_ms, match_ms, strict=True)]
        print(label)
        stages = (("language detection", lang_ms), ("topic matching", match_ms), ("together", both))
        for name, values in stages:
            print(
                f"  {name:<20} median {statistics.median(values):.3f} ms   "
                f"p95 {_percentile(values, 0.95):.3f} ms"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
