"""A message's folded text cut into words once, for keyword and pattern matching to share.

Contract: ``Tokenized(folded)`` holds the words of already folded text
exactly as :func:`bot.textnorm.tokens` finds them (maximal ``[a-z0-9]``
runs), as a list (``words``), a set (``distinct``) and the set of their
first three letters (``heads``). ``start(i)``/``end(i)`` are where word
``i`` starts and ends in ``folded`` (``offset_tables()`` for many words).

Why so: the regex engine and Python loops cost hundreds of instructions
per word; ``str.translate`` and ``str.split`` run in C, and offsets are
worked out only when asked for.
"""

from __future__ import annotations

import string
from itertools import accumulate, compress, count
from operator import itemgetter

__all__ = ["HEAD", "HEAD_OF", "Tokenized", "word_list"]

HEAD = 3  # the length of a word's head
HEAD_OF = itemgetter(slice(None, HEAD))  # a word's head
# Every byte but a word character's to a space (a non-ASCII character is one "?" by then: a space too).
_SPACES = bytes(c if chr(c) in string.ascii_lowercase + string.digits else ord(" ") for c in range(256))


def _spaced(folded: str) -> str:
    """``folded`` with every character that is not ``[a-z0-9]`` made one space (offsets kept)."""
    return folded.encode("ascii", "replace").translate(_SPACES).decode("ascii")


def word_list(folded: str) -> list[str]:
    """The words of already folded text, in order: ``Tokenized(folded).words`` without the rest."""
    return _spaced(folded).split()


class Tokenized:
    """The words of one folded text (see the module docstring)."""

    __slots__ = (
        "folded",
        "words",
        "distinct",
        "heads",
        "_parts",
        "_at",
        "_before",
        "_listed",
        "_heads",
    )

    def __init__(self, folded: str) -> None:
        self.folded = folded
        self._parts = _spaced(folded).split(" ")  # the words, and "" between two spaces in a row
        self.words: list[str] = list(filter(None, self._parts))
        self.distinct: set[str] = set(self.words)
        self._listed = list(self.distinct)
        self._heads = list(map(HEAD_OF, self._listed))
        self.heads: set[str] = set(self._heads)
        self._at: list[int] | None = None
        self._before: list[int] = []

    def headed(self, heads: set[str] | frozenset[str]) -> list[str]:
        """The distinct words whose head is one of ``heads``."""
        return list(compress(self._listed, map(heads.__contains__, self._heads)))

    def start(self, i: int) -> int:
        """Where word ``i`` starts in the folded text."""
        part_of, before = self.offset_tables()
        part = part_of[i]
        return before[part] + part  # and one space after each part before it

    def offset_tables(self) -> tuple[list[int], list[int]]:
        """``(part_of, before)``: word ``i`` starts at ``before[p] + p`` where ``p = part_of[i]``.

        For loops that want many offsets: ``start(i)`` is a Python call each time.
        """
        if self._at is None:
            self._at = list(compress(count(), self._parts))  # word i is part _at[i]
            self._before = list(accumulate(map(len, self._parts), initial=0))  # lengths before each part
        return self._at, self._before

    def end(self, i: int) -> int:
        """Where word ``i`` ends in the folded text."""
        return self.start(i) + len(self.words[i])
