"""Address headers as ``email.policy.default`` reads them, fast for one plain mailbox.

The email package's address parser builds a token tree for every header,
about 0.1 ms for ``Ana Pérez <ana@example.org>``. Nearly all inquiries come
from one mailbox written plainly: a bare address, or a name of plain words
(or one UTF-8 encoded word, which is what :func:`bot.mailheaders.decode_words`
leaves in an address header) before ``<address>``. :func:`address_header`
reads exactly those with one regular expression and hands everything else
to the email package, so the result is always what
``email.policy.default.header_factory`` gives (``tests/test_parse_fast.py``
compares both on generated and real headers).
"""

from __future__ import annotations

import binascii
import re
from email.headerregistry import Address
from functools import lru_cache

from bot.parse_error import POLICY

__all__ = ["PlainAddressHeader", "address_header"]

# Characters of an atom in a display name: no specials, blanks or controls, no '=?' (see _WORD).
_ATOM = r"(?:[^\x00-\x20\x7f-\x9f()<>@,:;.\\\"\[\]=]|=(?!\?))+"
# One encoded word as decode_words writes it; its text is checked below.
_EW = r"=\?utf-8\?b\?[A-Za-z0-9+/]*={0,2}\?="
_WORD = rf"(?:{_EW}|{_ATOM})"
_DOT_ATOM = r"[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*"
_ADDR = rf"({_DOT_ATOM})@({_DOT_ATOM})"
# A quoted display name: kept as written, so no quote, backslash or encoded word inside it.
_QUOTED = r'"((?:[^"\\=]|=(?!\?))+)"'
_SIMPLE = re.compile(
    rf"[ \t]*(?:(?:{_QUOTED}[ \t]*|({_WORD}(?:[ \t]+{_WORD})*)([ \t]*))?<{_ADDR}>|{_ADDR})[ \t]*"
)
_BLANKS = re.compile(r"[ \t]+")
_EW_WORD = re.compile(_EW)


class PlainAddressHeader:
    """One plain mailbox as the parse stage reads a header: its text, addresses and (no) defects."""

    __slots__ = ("_text", "addresses", "defects")

    def __init__(self, address: Address) -> None:
        self.addresses = (address,)
        self.defects = ()
        self._text = str(address)

    def __str__(self) -> str:
        return self._text


@lru_cache(maxsize=1024)
def address_header(name: str, value: str) -> object:
    """``email.policy.default.header_factory(name, value)``, or an equal stand-in for one plain mailbox.

    The stand-in has the same ``str()``, ``addresses`` and (no) ``defects``.
    Headers are immutable values, so repeated ones come from a cache.
    """
    match = _SIMPLE.fullmatch(value)
    if match:
        quoted, phrase, blank, local, domain, bare_local, bare_domain = match.groups()
        if local is None:
            return PlainAddressHeader(Address("", bare_local, bare_domain))
        if quoted is not None:
            if quoted.isprintable():
                return PlainAddressHeader(Address(quoted, local, domain))
            return POLICY.header_factory(name, value)
        words = _display_words(phrase or "", bool(blank))
        if words is not None:
            return PlainAddressHeader(Address(" ".join(words), local, domain))
    return POLICY.header_factory(name, value)


def _display_words(phrase: str, blank: bool) -> list[str] | None:
    """The words of a display name as the parser reads them, or None when it would read them otherwise."""
    words: list[str] = []
    encoded = False
    for word in _BLANKS.split(phrase) if phrase else ():
        was_encoded = encoded
        encoded = bool(_EW_WORD.fullmatch(word))
        if encoded:
            text = _decoded(word)
            if text is None or was_encoded:
                return None  # the parser joins adjacent encoded words, and flags odd text
            word = text
        elif not word.isprintable():
            return None
        words.append(word)
    if encoded and not blank:
        return None  # an encoded word right before "<" is flagged
    return words


def _decoded(word: str) -> str | None:
    """The text of a UTF-8 base64 encoded word when the parser would keep it unchanged, else None."""
    data = word[10:-2]
    if len(data) % 4:
        return None
    try:
        text = binascii.a2b_base64(data, strict_mode=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    # Printable (no controls, no blanks but the space), and single spaces only between words.
    plain = text and text.isprintable() and text.strip(" ") == text and "  " not in text
    return text if plain else None
