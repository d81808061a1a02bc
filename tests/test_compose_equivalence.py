"""The cheaper composer writes what the composer of 5524a7a wrote, byte for byte, in and out of batches.

The reference is a frozen copy of the former code (tests/compose_reference).
Every .eml under tests/, every file of the shared corpora and 500 bench
inquiries are parsed and triaged with the real rules; each is composed by
both, with the same ``now``, the same Message-ID and the same MIME boundary
(the random generator is seeded alike), and the Draft (every field, the raw
bytes included) or the exception must be the same. A message no topic
matched is given topics from a fixed cycle, so that every sender, subject
and language in the corpora goes through the composer; some are composed
with packets sent earlier or added by staff. The new composer runs once
outside any batch and once inside :func:`bot.filestamps.batch` blocks.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest

import bot.compose
import tests.compose_reference.compose as reference
from bot import filestamps
from bot.config import Config, parse_config
from bot.message import TopicHit, TopicResult, Triage
from bot.packets import build_packets
from bot.parse import parse_message
from bot.rules import Rules, load_rules
from bot.templates import TOPIC_IDS
from bot.triage import TriageContext, triage_message

ROOT = Path(__file__).resolve().parents[1]
CORPORA = ROOT.parent / "shared" / "corpora"
NOT_MAIL = frozenset({".md", ".rb", ".py", ".yml", ".yaml", ".json"})
NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
MSGID = "<equivalence.1@example.org>"
# Topic sets given to messages no topic matched: single topics, exclusive ones among others, several.
CYCLE = [
    *[(t,) for t in TOPIC_IDS],
    ("dosage", "obtaining", "enrollment"),
    ("administration", "urgent"),
    ("spanish_materials", "general_info"),
    ("human_contact", "unsubscribe", "research"),
    ("precautions", "obtaining"),
]
BATCH = 50


@dataclass(frozen=True)
class Case:
    name: str
    triage: Triage
    exclude: frozenset[str]
    extra: tuple[str, ...]


@dataclass
class Setup:
    config: Config
    rules: Rules
    loader: Any  # bot.templates.TemplateLoader
    packets: Callable[[str, str], tuple[str, str, bytes]]
    old_loader: Any  # tests.compose_reference.loader.TemplateLoader
    old_packets: Callable[[str, str], tuple[str, str, bytes]]


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Setup:
    from bot.templates import TemplateLoader
    from tests.compose_reference.loader import TemplateLoader as OldLoader

    config = parse_config(
        {
            "organisation": {
                "name": "ALS Worldwide",
                "address": "help@alsb12.example.org",
                "reply_name": "ALS Team",
            },
            "imap": {"host": "imap.example.org", "username": "help@alsb12.example.org"},
            "smtp": {"host": "smtp.example.org"},
            "paths": {
                "rules": str(ROOT / "rules.yaml"),
                "replies": str(ROOT / "replies"),
                "packets": str(tmp_path_factory.mktemp("packets")),
            },
        },
        environ={},
    )
    paths = config.paths
    build_packets(
        paths.replies, paths.packets, config.organisation.name
    )  # neither side builds while compared
    langs = config.languages
    return Setup(
        config=config,
        rules=load_rules(paths.rules),
        loader=TemplateLoader(paths.replies, langs.default, list(langs.fallback)),
        packets=bot.compose.packet_resolver(config),
        old_loader=OldLoader(paths.replies, langs.default, list(langs.fallback)),
        old_packets=reference.packet_resolver(config),
    )


@cache
def raw_messages(source: str) -> tuple[tuple[str, bytes], ...]:
    if source == "tests":
        files = sorted((ROOT / "tests").rglob("*.eml"))
        return tuple((p.relative_to(ROOT).as_posix(), p.read_bytes()) for p in files)
    if source == "corpora":
        files = sorted(p for p in CORPORA.rglob("*") if p.is_file() and p.suffix.lower() not in NOT_MAIL)
        return tuple((p.relative_to(CORPORA).as_posix(), p.read_bytes()) for p in files)
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import common
    finally:
        sys.path.remove(str(ROOT / "bench"))
    return tuple((f"inquiry {n}", raw) for n, raw in enumerate(common.Inquiries(seed=11).take(500)))


def cases(source: str, setup: Setup) -> Iterator[Case]:
    ctx = TriageContext.from_config(setup.config, setup.rules)
    for n, (name, raw) in enumerate(raw_messages(source)):
        try:
            triage = triage_message(parse_message(raw), ctx)
        except Exception:  # noqa: BLE001 - what cannot be parsed or triaged is never composed
            continue
        if not triage.topic_ids:
            topics = CYCLE[n % len(CYCLE)]
            triage = replace(
                triage, topics=TopicResult(tuple(TopicHit(t, 10 - i) for i, t in enumerate(topics)))
            )
        exclude = frozenset({"prescription_form", "general_information"}) if n % 3 == 0 else frozenset()
        extra = ("participant_profile", "prescription_form") if n % 4 == 1 else ()
        yield Case(name, triage, exclude, extra)


def outcome(compose: Callable[..., Any], case: Case, setup: Setup, old: bool) -> Any:
    """The Draft, or the exception's type and text."""
    random.seed(case.name)  # the same MIME boundaries on both sides
    try:
        return compose(
            case.triage,
            config=setup.config,
            rules=setup.rules,
            loader=setup.old_loader if old else setup.loader,
            packets=setup.old_packets if old else setup.packets,
            now=NOW,
            exclude_packets=case.exclude,
            extra_packets=case.extra,
        )
    except Exception as exc:  # noqa: BLE001 - the same failure, told the same way, is the same result
        return (type(exc).__name__, str(exc))


@pytest.mark.parametrize("source", ["tests", "corpora", "inquiries"])
def test_drafts_are_byte_identical_to_the_former_composer(
    source: str, setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    if source == "corpora":
        assert CORPORA.is_dir(), f"{CORPORA} is missing: shared/ must sit beside the checkout"
    for module in (bot.compose, reference):
        monkeypatch.setattr(module, "make_msgid", lambda domain=None: MSGID)
    every = list(cases(source, setup))
    expected = [outcome(reference.compose_reply, case, setup, old=True) for case in every]
    alone = [outcome(bot.compose.compose_reply, case, setup, old=False) for case in every]
    batched: list[Any] = []
    for start in range(0, len(every), BATCH):
        with filestamps.batch():
            batched += [
                outcome(bot.compose.compose_reply, c, setup, old=False) for c in every[start : start + BATCH]
            ]

    for results in (alone, batched):
        differ = [case.name for case, old, new in zip(every, expected, results, strict=True) if old != new]
        assert not differ, f"{len(differ)} drafts differ from the former composer's, e.g. {differ[:5]}"
    drafts = [d for d in expected if not isinstance(d, tuple)]
    assert len(drafts) >= 0.8 * len(every)  # most are composed, not refused
    assert sum(bool(d.packets) for d in drafts) >= 0.3 * len(drafts)  # packets are attached often
    assert len(every) >= {"tests": 400, "corpora": 1000, "inquiries": 480}[source]
