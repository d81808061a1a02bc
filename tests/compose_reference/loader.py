"""The template loader and HTML filters as they were at 5524a7a, frozen for the equivalence test."""

# ruff: noqa
from __future__ import annotations

import copy
import os
import re
from pathlib import Path
from typing import Any

import yaml
from jinja2 import FileSystemLoader, StrictUndefined, Template, TemplateNotFound
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup, escape

from bot.templates import ENGLISH, STRINGS, normalise_language
from tests.compose_reference import stamps as filestamps


def paragraphs(text: str) -> Markup:
    """Plain text to HTML: blank lines separate paragraphs, ``- `` lines make a list.

    Always escapes, so text from a topic template or a sender can never
    become markup in the HTML part.
    """
    out: list[str] = []
    for block in re.split(r"\n\s*\n", str(text).strip()):
        para: list[str] = []
        items: list[list[str]] = []
        for line in (ln.strip() for ln in block.splitlines()):
            if line.startswith(("- ", "* ")):
                items.append([line[2:].strip()])
            elif items:  # a list item wrapped onto the next line
                items[-1].append(line)
            elif line:
                para.append(line)
        if para:
            out.append(f"<p>{escape(' '.join(para))}</p>")
        if items:
            out.append("<ul>" + "".join(f"<li>{escape(' '.join(i))}</li>" for i in items) + "</ul>")
    return Markup("\n".join(out))


def linebreaks(text: str) -> Markup:
    """Escape ``text`` and keep its line breaks (signatures)."""
    return Markup("<br>\n".join(str(escape(ln)) for ln in str(text).strip().splitlines()))


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
        self.env = SandboxedEnvironment(
            loader=FileSystemLoader(str(self.replies_dir), encoding="utf-8"),
            autoescape=lambda name: bool(name and name.endswith(".html.j2")),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["paragraphs"] = paragraphs
        self._strings: dict[Path, tuple[tuple[int, int, int], dict[str, Any]]] = {}
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

    def resolve(self, name: str, language: str | None) -> tuple[Template, str]:
        """The template ``name`` and the language it was found in (see the class docstring)."""
        for lang in self.search_order(language):
            if self.has(name, lang):
                return self.env.get_template(f"{lang}/{name}"), lang
        raise TemplateNotFound(name)

    def strings(self, language: str) -> dict[str, Any]:
        """``strings.yaml`` of ``language`` over English's: a missing key shows English, not an error."""
        merged: dict[str, Any] = {}
        for lang in dict.fromkeys([ENGLISH, normalise_language(language) or ENGLISH]):
            merged.update(copy.deepcopy(self._read_strings(self.replies_dir / lang / STRINGS)))
        return merged

    def _read_strings(self, path: Path) -> dict[str, Any]:
        """One ``strings.yaml`` ({} when missing), parsed again only when the file changed.

        Every reply needs its strings; parsing the YAML each time cost ~2 ms a reply.
        """
        stamp = filestamps.stamp(path)
        if stamp is None:
            return {}
        hit = self._strings.get(path)
        if hit is not None and hit[0] == stamp:
            return hit[1]
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict):
            raise ValueError(f"{path}: expected a mapping of keys to strings")
        self._strings[path] = (stamp, data)
        return data
