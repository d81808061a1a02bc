"""A message's folded text cut into words once, for keyword and pattern matching to share.

Contract: ``Tokenized(folded)`` holds the words of already folded text
exactly as :func:`bot.textnorm.tokens` finds them (maximal ``[a-z0-9]``
runs), as a list (``words``), a set (``distinct``) and the set of their
first three letters (``heads``). ``offsets()`` are where the words start
and end in ``folded``, computed on first use.
"""

from __future__ import annotations

import re
from itertools import accumulate, compress
from operator import itemgetter

__all__ = ["HEAD", "HEAD_OF", "Tokenized"]

HEAD = 3  # the length of a word's head
_SPLIT = re.compile(r"([a-z0-9]+)")  # textnorm's word, captured: split keeps what lies between
HEAD_OF = itemgetter(slice(None, HEAD))  # a word's head


class Tokenized:
    """The words of one folded text (see the module docstring)."""

    __slots__ = ("folded", "words", "distinct", "heads", "_parts", "_offsets", "_listed", "_head_list")

    def __init__(self, folded: str) -> None:
        self.folded = folded
        self._parts = _SPLIT.split(folded)  # separator, word, separator, ..., word, separator
        self.words: list[str] = self._parts[1::2]
        self.distinct: set[str] = set(self.words)
        self._listed = list(self.distinct)
        self._head_list = list(map(HEAD_OF, self._listed))
        self.heads: set[str] = set(self._head_list)
        self._offsets: list[int] | None = None

    def headed(self, heads: set[str] | frozenset[str]) -> list[str]:
        """The distinct words whose head is one of ``heads``."""
        return list(compress(self._listed, map(heads.__contains__, self._head_list)))

    def offsets(self) -> list[int]:
        """Where the words start and end: word ``i`` spans ``[offsets[2 * i], offsets[2 * i + 1])``."""
        if self._offsets is None:
            self._offsets = list(accumulate(map(len, self._parts)))  # running totals of the parts
        return self._offsets
