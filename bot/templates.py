"""Per-language reply templates and the order in which languages are searched.

The folder layout (``paths.replies`` in the config) is Mailman's
``templates/<lang>/<name>``::

    replies/<lang>/reply.txt.j2            layout of the text part
    replies/<lang>/reply.html.j2           layout of the HTML part (autoescaped)
    replies/<lang>/topics/<topic>.txt.j2   one short section per topic, plain text
    replies/<lang>/strings.yaml            subject prefix, greetings, labels
    replies/<lang>/disclaimer.txt          appended by the composer, never by a template

A language counts as *available* only when it has the full set: both
layouts, ``strings.yaml``, ``disclaimer.txt`` and a template for every topic
in :data:`TOPIC_IDS`. A half-translated folder therefore never produces a
reply mixing two languages; the composer falls back as a whole instead.

Templates run in Jinja2's sandbox with ``StrictUndefined``: staff edit them,
so a typo must fail loudly at render time, and a template must not reach
Python internals. The context every template receives is documented (and
sampled for :meth:`TemplateLoader.render_check`) by :func:`bot.sandbox.sample_context`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError, TemplateNotFound

from bot import filestamps
from bot.replyfilters import linebreaks, paragraphs
from bot.replystrings import StringsFiles
from bot.sandbox import ReplyEnvironment, ReplyLoader, sample_context

TOPIC_IDS: tuple[str, ...] = (
    "general_info",
    "research",
    "dosage",
    "administration",
    "obtaining",
    "precautions",
    "enrollment",
    "spanish_materials",
    "human_contact",
    "urgent",
    "unsubscribe",
)
LAYOUT_TEXT = "reply.txt.j2"
LAYOUT_HTML = "reply.html.j2"
STRINGS = "strings.yaml"
DISCLAIMER = "disclaimer.txt"
ENGLISH = "en"

# Language tags become folder names: anything else (``..``, slashes) is refused.
_LANG_RE = re.compile(r"^[a-z]{2,3}(?:-[a-z0-9]{2,8})?$")


def normalise_language(code: str | None) -> str | None:
    """``es_ES`` -> ``es-es``; None for anything that is not a plain language tag."""
    if not code:
        return None
    code = code.strip().lower().replace("_", "-")
    return code if _LANG_RE.match(code) else None


def topic_template(topic_id: str) -> str:
    """The template name of a topic's section, relative to the language folder."""
    return f"topics/{topic_id}.txt.j2"


def full_set() -> tuple[str, ...]:
    """Every file a language folder needs to count as available."""
    return (LAYOUT_TEXT, LAYOUT_HTML, STRINGS, DISCLAIMER, *(topic_template(t) for t in TOPIC_IDS))


# TemplateLoader.choose_language's answers, shared by every loader of the same folder (a loader
# is cheap to make and some callers make one per use), with the stamps they depend on.
_chosen: dict[tuple[Any, ...], tuple[str, tuple[Path, ...], tuple[Any, ...]]] = {}


class TemplateLoader:
    """Finds and renders reply templates, one folder per language.

    The search order for a template in ``language`` is:

    1. the requested language (``es-mx`` is tried as ``es-mx``, then ``es``);
    2. the configured default language (``languages.default``);
    3. each configured fallback language, in order (``languages.fallback``);
    4. English, which always exists.

    Languages are tried once each, in that order; the first folder that has
    the template wins, and the language actually used is returned with it so
    that the caller can tell staff a fallback happened.
    """

    def __init__(self, replies_dir: Path, default_language: str, fallback: list[str]) -> None:
        self.replies_dir = Path(replies_dir)
        self.default_language = default_language
        self.fallback = list(fallback)
        # Autoescape only the HTML layout: the text part must show "<" as "<".
        self.env = ReplyEnvironment(
            loader=ReplyLoader(str(self.replies_dir), encoding="utf-8"),
            autoescape=lambda name: bool(name and name.endswith(".html.j2")),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["paragraphs"] = paragraphs
        self._strings = StringsFiles(STRINGS)
        self.env.filters["linebreaks"] = linebreaks

    def search_order(self, language: str | None) -> list[str]:
        """The languages tried for ``language``, most preferred first, without repeats."""
        order: list[str] = []
        requested = normalise_language(language)
        candidates = [requested, requested.split("-")[0] if requested else None]
        candidates += [normalise_language(self.default_language)]
        candidates += [normalise_language(f) for f in self.fallback] + [ENGLISH]
        for code in candidates:
            if code and code not in order:
                order.append(code)
        return order

    def has(self, name: str, language: str) -> bool:
        """Whether ``replies/<language>/<name>`` exists (``name`` may not climb out)."""
        lang = normalise_language(language)
        if lang is None or ".." in Path(name).parts or Path(name).is_absolute():
            return False
        return (self.replies_dir / lang / name).is_file()

    def choose_language(self, language: str | None, names: list[str] | tuple[str, ...]) -> str:
        """The first language in the search order that has every one of ``names``.

        Raises :class:`TemplateNotFound` when no language has them all. Every
        reply asks this (60-150 us of file checks), so the answer is kept while
        the folders it depends on are unchanged (:mod:`bot.filestamps`): the
        replies folder, and the folders of the templates in every language it
        may try (a file appearing or vanishing changes its folder's times). A
        template that is a symlink whose target is removed is not noticed; the
        render then fails loudly.
        """
        key = (self.replies_dir, self.default_language, tuple(self.fallback), language, tuple(names))
        return filestamps.per_batch(
            ("choose_language", key), lambda: self._chosen_language(key, language, names)
        )

    def _chosen_language(
        self, key: tuple[Any, ...], language: str | None, names: list[str] | tuple[str, ...]
    ) -> str:
        """choose_language's answer, from its memory while the folders are unchanged."""
        hit = _chosen.get(key)
        if hit is not None and tuple(map(filestamps.stamp, hit[1])) == hit[2]:
            return hit[0]
        # Stamps are read before the files are checked: a change made meanwhile shows.
        subdirs = dict.fromkeys(os.path.dirname(n) for n in names)
        order = self.search_order(language)
        folders = (self.replies_dir, *(self.replies_dir / lang / sub for lang in order for sub in subdirs))
        stamps = tuple(map(filestamps.stamp, folders))
        chosen = self._choose(order, names)
        if filestamps.settled(stamps):
            if len(_chosen) >= 256:  # keys are few (languages x topic combinations)
                _chosen.clear()
            _chosen[key] = (chosen, folders, stamps)
        return chosen

    def _choose(self, order: list[str], names: list[str] | tuple[str, ...]) -> str:
        for lang in order:
            if all(self.has(n, lang) for n in names):
                return lang
        raise TemplateNotFound(", ".join(names))

    def template(self, name: str) -> Template:
        """``env.get_template(name)``: within a :func:`~bot.filestamps.batch`, looked up once per batch.

        Outside a batch every call asks Jinja, which checks that the file is unchanged.
        """
        return filestamps.per_batch(("template", self.env, name), lambda: self.env.get_template(name))

    def resolve(self, name: str, language: str | None) -> tuple[Template, str]:
        """The template ``name`` and the language it was found in (see the class docstring)."""
        for lang in self.search_order(language):
            if self.has(name, lang):
                return self.env.get_template(f"{lang}/{name}"), lang
        raise TemplateNotFound(name)

    def available_languages(self) -> frozenset[str]:
        """Languages whose folder has the full set of files (see the module docstring)."""
        if not self.replies_dir.is_dir():
            return frozenset()
        needed = full_set()
        return frozenset(
            p.name
            for p in self.replies_dir.iterdir()
            if p.is_dir()
            and normalise_language(p.name) == p.name
            and all(self.has(n, p.name) for n in needed)
        )

    def strings(self, language: str) -> dict[str, Any]:
        """``strings.yaml`` of ``language`` over English's: a missing key shows English, not an error.

        A new dict every call, the caller's to change.
        """
        layers = tuple(dict.fromkeys([ENGLISH, normalise_language(language) or ENGLISH]))
        return self._strings.merged(self.replies_dir, layers)

    def render_check(self, source: str, *, html: bool = False) -> list[str]:
        """Problems with a template's ``source``: syntax errors, undefined names, sandbox refusals.

        The template is compiled and rendered with :func:`sample_context`, as
        the template editor needs before it saves. An empty list means it is fine.
        ``html`` renders it as an HTML layout (autoescaped).
        """
        env = self.env.overlay(autoescape=html) if html else self.env
        try:
            template = env.from_string(source)
        except TemplateError as exc:
            line = getattr(exc, "lineno", None)
            return [f"line {line}: {exc.message}" if line else str(exc)]
        ctx = sample_context()
        ctx["strings"] = self.strings(ENGLISH)
        try:
            template.render(ctx)
        except TemplateError as exc:
            return [f"{type(exc).__name__}: {exc.message or exc}"]
        except Exception as exc:  # noqa: BLE001 - any failure is a problem to show, not a crash
            return [f"{type(exc).__name__}: {exc}"]
        return []
