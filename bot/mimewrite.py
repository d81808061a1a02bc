"""Header lines for outgoing mail, written directly: folded at 78, non-ASCII as RFC 2047 words.

The reply's headers used to go through :mod:`email`'s header registry, which
parsed every value back and refolded it - about a third of a reply's cost.
The values written here are few and simple (a subject, message ids, an
address, a date), so they are written as text:

* :func:`unstructured` for free text (Subject, In-Reply-To, References):
  words of printable ASCII are written as they are, however long (up to
  what fits 998); runs of words with anything else (non-ASCII, or text that
  would read as an encoded word) become ``=?utf-8?q?...?=`` words; lines are
  folded at spaces to stay within 78 characters where the words allow it.
  (email encoded an ASCII word longer than a line too: a message id of
  Outlook's length became an encoded word no client matches for threading.)
* :func:`literal` for structured values built by us (To, Date, Message-ID):
  printable ASCII only.

Neither can inject a header: a value holding CR, LF or any other control
character is refused with :class:`HeaderInjection` (callers clean inquiry
text with :func:`bot.reply_headers.clean_header_text` first), and every line
written is ASCII with no line break but the CRLF that ends it.
"""

from __future__ import annotations

import re
from email.policy import SMTP
from email.utils import formataddr
from functools import lru_cache

MAX_LINE = 78  # RFC 5322's "SHOULD"; a line is longer only for one long word of a structured value
HARD_LINE = 998  # RFC 5322's "MUST"
_MAX_WORD = 75  # RFC 2047: an encoded word is at most 75 characters
_PREFIX = "=?utf-8?q?"
_OVERHEAD = len(_PREFIX) + 2  # and "?=" at the end

# Control characters and line or paragraph separators: refused in any value.
_CONTROL = re.compile("[\x00-\x1f\x7f\x85\u2028\u2029]")
# A word written as it is: printable ASCII, and not something a reader would decode.
_PLAIN_WORD = re.compile(r"[!-~]+")
_PLAIN_LINE = re.compile(r"[!-~]+(?: [!-~]+)*")  # plain words separated by single spaces
_NAME = re.compile(r"[!-9;-~]+")  # RFC 5322 field name: printable ASCII but ":"

# RFC 2047 "Q" encoding of one byte inside a word of free text: letters, digits
# and !*+-/ as they are, space as "_", everything else as =XX.
_Q_BYTE = [
    chr(b) if chr(b).isascii() and (chr(b).isalnum() or chr(b) in "!*+-/") else f"={b:02X}"
    for b in range(256)
]
_Q_BYTE[0x20] = "_"
_Q_CHAR: dict[str, str] = {}  # per character, so a multi-byte character is never split across words


class HeaderInjection(ValueError):
    """A header value held a line break or another control character."""


def _check(name: str, value: str) -> None:
    if not _NAME.fullmatch(name):
        raise HeaderInjection(f"not a header name: {name!r}")
    if _CONTROL.search(value):
        raise HeaderInjection(f"{name}: a header value may not hold line breaks or control characters")


def literal(name: str, value: str) -> str:
    """``Name: value`` and CRLF, for a value of printable ASCII words (an address, a date, an id).

    Raises :class:`HeaderInjection` for anything else: these values are made
    by the bot or checked before, so anything else is a bug, not mail to fold.
    """
    _check(name, value)
    if len(name) + 2 + len(value) <= MAX_LINE and _PLAIN_LINE.fullmatch(value):  # the usual case
        return f"{name}: {value}\r\n"
    words = value.split(" ")
    if not all(_PLAIN_WORD.fullmatch(w) and len(w) <= _longest(name, i) for i, w in enumerate(words)):
        raise HeaderInjection(f"{name}: expected printable ASCII words that fit {HARD_LINE} characters")
    return _fold(name, [(w, False) for w in words])


@lru_cache(maxsize=16)
def address(name: str, display_name: str, addr_spec: str) -> str:
    """``Name: Display Name <addr@spec>`` and CRLF, as :mod:`email` writes it (cached: it is our own From).

    The pair goes through :func:`email.utils.formataddr` (quoting, or an
    RFC 2047 word for a non-ASCII name) and email's address folding; it is
    the same for every reply, so that cost is paid once. Raises ``ValueError``
    for a value with a line break, as email does.
    """
    _check(name, display_name + addr_spec)
    return SMTP.fold_binary(*SMTP.header_store_parse(name, formataddr((display_name, addr_spec)))).decode(
        "ascii"
    )


def unstructured(name: str, value: str) -> str:
    """``Name: value`` and CRLF, folded, for free text (RFC 5322 "unstructured", RFC 2047 words).

    ``value`` is read as words separated by whitespace (as
    :func:`~bot.reply_headers.clean_header_text` leaves it); a reader
    decoding the header gets those words back joined by single spaces.
    Raises :class:`HeaderInjection` for control characters and
    ``UnicodeEncodeError`` for text UTF-8 cannot hold (lone surrogates).
    """
    _check(name, value)
    if len(name) + 2 + len(value) <= MAX_LINE and _PLAIN_LINE.fullmatch(value) and "=?" not in value:
        return f"{name}: {value}\r\n"  # one line of plain words, as the general case would write it
    atoms: list[tuple[str, bool]] = []  # (text, encode it)
    for i, word in enumerate(value.split()):
        plain = (
            len(word) <= _longest(name, i) and "=?" not in word and _PLAIN_WORD.fullmatch(word) is not None
        )
        if not plain and atoms and atoms[-1][1]:  # one encoded run: the spaces go inside it
            atoms[-1] = (f"{atoms[-1][0]} {word}", True)
        else:
            atoms.append((word, not plain))
    return _fold(name, atoms)


def _longest(name: str, index: int) -> int:
    """The longest literal word that fits 998 where it goes: after ``Name: `` if first, else after a space."""
    return HARD_LINE - len(name) - 2 if index == 0 else HARD_LINE - 1


def _fold(name: str, atoms: list[tuple[str, bool]]) -> str:
    """Lines of ``atoms`` separated by single spaces, folded before a word that would pass 78.

    A longer word goes on a line of its own, except the first, which stays
    after the name (a fold there would read back as a leading space): the
    callers keep literal words short enough for 998 either way.
    """
    lines: list[str] = []
    line = f"{name}:"
    for text, encode in atoms:
        for word in _encoded_words(text, MAX_LINE - len(line) - 1) if encode else (text,):
            if len(line) + 1 + len(word) > MAX_LINE and line != f"{name}:":
                lines.append(line)
                line = ""
            line = f"{line} {word}"
    if not atoms:  # an empty value
        line += " "
    lines.append(line)
    return "\r\n".join(lines) + "\r\n"


def _encoded_words(text: str, room: int) -> list[str]:
    """``text`` as Q-encoded UTF-8 words: the first fitting ``room`` if it can, the rest at most 75."""
    budget = min(_MAX_WORD, room) - _OVERHEAD
    if budget < 12:  # not even one character of four bytes: start on a new line
        budget = _MAX_WORD - _OVERHEAD
    words: list[str] = []
    current: list[str] = []
    size = 0
    for ch in text:
        enc = _Q_CHAR.get(ch)
        if enc is None:
            enc = "".join(_Q_BYTE[b] for b in ch.encode("utf-8"))
            if len(_Q_CHAR) < 4096:
                _Q_CHAR[ch] = enc
        if size + len(enc) > budget and current:
            words.append(f"{_PREFIX}{''.join(current)}?=")
            current, size, budget = [], 0, _MAX_WORD - _OVERHEAD
        current.append(enc)
        size += len(enc)
    words.append(f"{_PREFIX}{''.join(current)}?=")
    return words
