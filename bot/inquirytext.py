"""The text of one inquiry as language detection and topic matching both read it, prepared once.

Contract: ``InquiryText.of(msg)`` holds the inquiry's ``body`` (the new
text, or the whole text when nothing is new), ``combined`` (the subject, a
line break, the body: what topic matching and short-text language detection
read), its folded form (:func:`bot.textnorm.fold`) and its words
(:class:`bot.tokenized.Tokenized`). :meth:`body_words` is
``words(body)`` and :meth:`all_words` ``set(words(combined))``
(:func:`bot.textnorm.words`).

Why so: folding and cutting ~1,500 characters into words is a good part of
both stages' cost; done once, the words are shared. The words of
``subject + "\\n" + body`` are the subject's words followed by the body's
(folding works character by character, so the line break is never folded
into or out of a word), so the body's are the list's tail.
"""

from __future__ import annotations

from bot.message import ParsedMessage
from bot.textnorm import fold
from bot.tokenized import Tokenized, word_list

__all__ = ["InquiryText"]


class InquiryText:
    """One inquiry's subject and body, folded and cut into words once (see the module docstring)."""

    __slots__ = ("body", "combined", "tokens", "_subject_words")

    def __init__(self, subject: str, body: str) -> None:
        self.body = body
        self.combined = f"{subject}\n{body}"
        self.tokens = Tokenized(fold(self.combined))
        self._subject_words = len(word_list(fold(subject))) if subject else 0

    @classmethod
    def of(cls, msg: ParsedMessage) -> InquiryText:
        """The text of ``msg``: its subject, and its new text (its whole text when nothing is new)."""
        return cls(msg.subject, msg.new_text if msg.new_text.strip() else msg.text)

    def body_words(self) -> list[str]:
        """The folded words of the body, in order."""
        return self.tokens.words[self._subject_words :]

    def all_words(self) -> set[str]:
        """The distinct folded words of the subject and the body."""
        return self.tokens.distinct
