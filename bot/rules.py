"""rules.yaml: the topics an inquiry can be about, and how each is recognised.

:func:`load_rules` and :func:`parse_rules` return a :class:`Rules` or raise
:class:`RulesError`, whose ``problems`` name the file and line of every
mistake found (YAML syntax, schema, duplicate ids, unknown packets, bad
regexes, ``urgent`` set to ``auto``), so an admin fixes the file in one go.
The file's format is documented at the top of rules.yaml itself.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from bot.textnorm import fold, phrase_words, words

if TYPE_CHECKING:
    from bot.match import CompiledRules

URGENT = "urgent"
PacketId = Literal[
    "general_information",
    "prescription_form",
    "participant_profile",
    "injection_information",
    "baseline_status_report",
]
PACKET_IDS: tuple[str, ...] = get_args(PacketId)
_ID = r"^[a-z][a-z0-9_]*$"
# Keys are two-letter language codes (pydantic checks dict keys too).
Lang = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")]


class Topic(BaseModel):
    """One topic; see rules.yaml for the meaning of each key."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=_ID)
    title: str = Field(min_length=1)
    priority: int
    approval: Literal["review", "auto"] = "review"
    keywords: dict[Lang, list[str]] = Field(default_factory=dict)
    patterns: dict[Lang, list[str]] = Field(default_factory=dict)
    exclude: dict[Lang, list[str]] = Field(default_factory=dict)
    template: str = Field(min_length=1)
    packets: dict[Lang, list[PacketId]] = Field(default_factory=dict)


class RulesFile(BaseModel):
    """The whole file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1]
    topics: list[Topic] = Field(min_length=1)
    vocabulary: dict[Lang, list[str]] = Field(default_factory=dict)


@dataclass(frozen=True)
class RuleProblem:
    """One mistake in a rules file, at a line an editor can jump to."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class RulesError(Exception):
    """The rules file cannot be used; ``problems`` lists every reason."""

    def __init__(self, problems: list[RuleProblem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


class Rules:
    """Validated rules: topics by priority (highest first) and the matcher built from them."""

    def __init__(self, data: RulesFile, source: str = "rules.yaml") -> None:
        self.source = source
        self.vocabulary = data.vocabulary
        self.topics: list[Topic] = sorted(data.topics, key=lambda t: (-t.priority, t.id))
        self._by_id = {t.id: t for t in self.topics}

    def topic(self, topic_id: str) -> Topic:
        """The topic called ``topic_id``; KeyError when there is none."""
        return self._by_id[topic_id]

    def packets_for(self, topic_ids: list[str] | tuple[str, ...], language: str) -> list[str]:
        """Packet ids for these topics in priority order, without duplicates; a topic
        without packets for ``language`` uses its English list."""
        wanted = set(topic_ids)
        out: list[str] = []
        for topic in self.topics:
            if topic.id in wanted:
                for packet in topic.packets.get(language, topic.packets.get("en", [])):
                    if packet not in out:
                        out.append(packet)
        return out

    @cached_property
    def _evidence(self) -> dict[str, frozenset[str]]:
        by_lang: dict[str, set[str]] = {}
        for topic in self.topics:
            for lang, phrases in topic.keywords.items():
                found = (w for p in phrases for w in words(p.replace("*", "")) if len(w) > 2 and w.isalpha())
                by_lang.setdefault(lang, set()).update(found)
        # A word listed in two languages (``farmacia``, ``dose``) tells neither.
        seen = Counter(w for ws in by_lang.values() for w in ws)
        out = {lang: {w for w in ws if seen[w] == 1} for lang, ws in by_lang.items()}
        for lang, extra in self.vocabulary.items():
            out.setdefault(lang, set()).update(fold(w) for w in extra)
        return {lang: frozenset(ws) for lang, ws in out.items()}

    def keywords_by_language(self) -> dict[str, frozenset[str]]:
        """Folded keyword words that belong to one language only, plus ``vocabulary``: language evidence."""
        return self._evidence

    @cached_property
    def compiled(self) -> CompiledRules:
        """The matcher, built once per Rules (regexes compiled, keyword index made)."""
        from bot.match import compile_rules

        return compile_rules(self)


class _LineLoader(yaml.SafeLoader):
    """A SafeLoader that also records the line of every node, keyed by its path."""

    def document_with_lines(self) -> tuple[object, dict[tuple, int]]:
        node = self.get_single_node()
        lines: dict[tuple, int] = {}
        if node is None:
            return None, lines
        self._walk(node, (), lines)
        return self.construct_document(node), lines

    def _walk(self, node: yaml.Node, path: tuple, lines: dict[tuple, int]) -> None:
        lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                self._walk(value, (*path, key.value), lines)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                self._walk(item, (*path, i), lines)


def _line_of(lines: dict[tuple, int], loc: tuple) -> int:
    # Errors about a missing key point at the mapping that lacks it.
    for end in range(len(loc), -1, -1):
        if tuple(loc[:end]) in lines:
            return lines[tuple(loc[:end])]
    return 1


def _where(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


_PLAIN = {"missing": "required key is missing", "extra_forbidden": "unknown key"}


def _semantic_problems(data: RulesFile, lines: dict[tuple, int], source: str) -> list[RuleProblem]:
    """Checks that span topics or need compiling: unique ids, usable phrases, valid regexes."""
    problems: list[RuleProblem] = []

    def add(loc: tuple, message: str) -> None:
        problems.append(RuleProblem(source, _line_of(lines, loc), f"{_where(loc)}: {message}"))

    first: dict[str, int] = {}
    for i, topic in enumerate(data.topics):
        if topic.id in first:
            add(("topics", i, "id"), f"duplicate id {topic.id!r} (first at topics[{first[topic.id]}])")
        first.setdefault(topic.id, i)
        # An emergency must reach a person: the bot may never answer it alone.
        if topic.id == URGENT and topic.approval == "auto":
            add(("topics", i, "approval"), "the urgent topic can never be approval: auto")
        if not topic.keywords and not topic.patterns:
            add(("topics", i), "a topic needs keywords or patterns, or it can never match")
        for kind in ("keywords", "exclude"):
            for lang, phrases in getattr(topic, kind).items():
                for j, phrase in enumerate(phrases):
                    try:
                        phrase_words(phrase)
                    except ValueError as exc:
                        add(("topics", i, kind, lang, j), f"unusable phrase: {exc}")
        for lang, regexes in topic.patterns.items():
            for j, regex in enumerate(regexes):
                try:
                    re.compile(regex)
                except re.error as exc:
                    add(("topics", i, "patterns", lang, j), f"bad regex ({exc})")
    return problems


def parse_rules(text: str, source: str = "rules.yaml") -> Rules:
    """Validate the text of a rules file; raise :class:`RulesError` listing every problem."""
    loader = _LineLoader(text)
    try:
        raw, lines = loader.document_with_lines()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        raise RulesError(
            [RuleProblem(source, line, f"not valid YAML: {getattr(exc, 'problem', None) or exc}")]
        ) from None
    finally:
        loader.dispose()
    if not isinstance(raw, dict):
        raise RulesError([RuleProblem(source, 1, "expected a mapping with version and topics")])
    try:
        data = RulesFile.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
            msg = _PLAIN.get(err["type"], err["msg"])
            if loc and loc[-1] == "[key]":  # a dict key failed: the language code
                loc, msg = loc[:-1], f"{loc[-2]!r} is not a two-letter language code"
            problems.append(RuleProblem(source, _line_of(lines, loc), f"{_where(loc) or 'file'}: {msg}"))
        raise RulesError(sorted(problems, key=lambda p: p.line)) from None
    problems = _semantic_problems(data, lines, source)
    if problems:
        raise RulesError(problems)
    return Rules(data, source)


def load_rules(path: str | Path = "rules.yaml") -> Rules:
    """Read and validate a rules file; :class:`RulesError` when unreadable or wrong."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise RulesError([RuleProblem(str(p), 0, f"cannot read the rules file ({exc.strerror})")]) from None
    return parse_rules(text, str(p))
