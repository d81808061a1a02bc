"""Accent folding, tokenising and plural variants, shared by language detection and matching.

Contract (both sides of every comparison go through the same functions):

* :func:`fold` lower-cases (``casefold``, so ``ß`` becomes ``ss``), removes
  diacritics (``é`` -> ``e``, ``ñ`` -> ``n``, ``ç`` -> ``c``) and turns
  typographic apostrophes into ``'``. Regex ``patterns`` in rules.yaml are
  run on this folded text.
* :func:`tokens` splits folded text into ``(word, start, end)`` runs of
  ``[a-z0-9]``; an apostrophe separates words (``can't`` -> ``can``, ``t``).
* :func:`variants` is the plural tolerance: the forms of one keyword word
  that count as that word (``injection`` -> ``injections``; ``inyeccion`` ->
  ``inyecciones``; ``study`` -> ``studies``; ``vez`` -> ``veces``).

Plurals are generated from the keyword instead of stemming the message, so a
message word is never cut into another language's word (``dose`` must not
become Spanish ``dos``). Other inflections are written in rules.yaml as a
prefix, ``inject*``.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

__all__ = ["fold", "tokens", "variants", "words", "letter_count", "phrase_words"]

_WORD = re.compile(r"[a-z0-9]+")
_PHRASE_WORD = re.compile(r"[a-z0-9]+\*?|\*")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u00b4": "'", "`": "'"})
# Letters NFKD does not decompose into a base letter plus a mark.
_SPECIAL = str.maketrans({"ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ı": "i"})
# The two tables as (character, replacement) pairs; no replacement contains another's character.
_REPLACE = tuple((chr(k), v) for table in (_APOSTROPHES, _SPECIAL) for k, v in table.items())
_BEYOND_BMP = re.compile("[\U00010000-\U0010ffff]")  # no "+": the engine then skips to one


@cache
def _bmp_marks() -> re.Pattern[str]:
    """A class of every character of the Basic Multilingual Plane that unicodedata.combining() counts.

    Built on first use (some milliseconds): one regex pass drops them all, where a test per
    character would cost a Python call each.
    """
    runs: list[list[int]] = []
    for code in range(0x10000):
        if unicodedata.combining(chr(code)):
            if runs and runs[-1][1] == code - 1:
                runs[-1][1] = code
            else:
                runs.append([code, code])
    return re.compile("[" + "".join(f"\\u{a:04x}-\\u{b:04x}" for a, b in runs) + "]")


def fold(text: str) -> str:
    """Lower-case ``text`` and remove its accents; ASCII text takes a fast path."""
    if text.isascii():
        return text.lower()
    text = text.casefold()
    # str.replace per character, not str.translate: the same result, but no dict lookup per character.
    for old, new in _REPLACE:
        if old in text:
            text = text.replace(old, new)
    decomposed = unicodedata.normalize("NFKD", text)
    if decomposed.isascii():
        return decomposed
    # Drop combining marks: those of the BMP in one regex pass, any beyond it by its own test.
    out = _bmp_marks().sub("", decomposed)
    if len(out.encode("utf-16-le", "surrogatepass")) == 2 * len(out):  # nothing beyond the BMP (fast)
        return out
    return _BEYOND_BMP.sub(_without_marks, out)


def _without_marks(m: re.Match[str]) -> str:
    return "".join(c for c in m.group() if not unicodedata.combining(c))


def tokens(folded: str) -> list[tuple[str, int, int]]:
    """The words of already folded text, each with its start and end offset."""
    return [(m.group(), *m.span()) for m in _WORD.finditer(folded)]


def words(text: str) -> list[str]:
    """The folded words of raw ``text``, without offsets."""
    return _WORD.findall(fold(text))


def letter_count(text: str) -> int:
    """How many letters ``text`` has: the measure of "short" for language detection."""
    return sum(1 for c in text if c.isalpha())


def variants(word: str) -> frozenset[str]:
    """The forms of a folded keyword word that match it: itself, its plurals, its singular.

    Words of two letters only match themselves: ``mg`` or ``iv`` have no
    plural worth guessing, and ``no`` must not become ``nos``.
    """
    forms = {word}
    if len(word) <= 2 or not word.isalpha():
        return frozenset(forms)
    forms.add(word + "s")
    if word.endswith("y"):
        forms.add(word[:-1] + "ies")  # study -> studies
    elif word.endswith("z"):
        forms.add(word[:-1] + "ces")  # vez -> veces
    elif not word.endswith(("s", "e", "a", "o")):
        forms.add(word + "es")  # inyeccion -> inyecciones, dolor -> dolores
    # A keyword written in the plural also matches the singular.
    if word.endswith("ies"):
        forms.add(word[:-3] + "y")
    elif word.endswith("ones") or word.endswith("ores"):
        forms.add(word[:-2])
    elif word.endswith("s") and not word.endswith("ss") and not word.endswith("is"):
        forms.add(word[:-1])
    return frozenset(forms)


def phrase_words(phrase: str) -> list[tuple[str, bool]]:
    """A rules.yaml phrase as ``(folded word, is_prefix)`` pairs; ValueError when unusable.

    ``inject*`` is a prefix (at least three letters before the ``*``); any
    other word must equal a message word or one of its :func:`variants`.
    """
    out = []
    for m in _PHRASE_WORD.finditer(fold(phrase)):
        word = m.group()
        if word.endswith("*"):
            if len(word) < 4:
                raise ValueError(f"a * must follow at least three letters in {phrase!r}")
            out.append((word[:-1], True))
        else:
            out.append((word, False))
    if not out:
        raise ValueError(f"no words in {phrase!r}")
    return out
