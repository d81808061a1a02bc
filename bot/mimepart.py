"""The message parts :mod:`bot.mimesplit` builds: EmailMessages that answer the MIME walk cheaply.

A :class:`SplitPart` is an ``email.message.EmailMessage`` (policy
:data:`bot.fastheaders.POLICY`) with the same headers and payload the feed
parser would give it; only the questions the parse stage asks are answered
faster, each as the email package answers it: a header by name from a dict
(``Message.get`` lower-cases every name on every call), the content type
once, MIME parameters once per header value, and the payload decoded
without copying it twice (base64 lines joined in one pass).
``tests/test_parse_fast.py`` compares the results with the feed parser's
parts on every stored, generated and damaged message.
"""

from __future__ import annotations

import binascii
from collections.abc import Iterator
from email._encoded_words import decode_b
from email.message import EmailMessage, Message
from functools import lru_cache

from bot.fastheaders import POLICY

__all__ = ["SplitPart"]

_UUENCODE = ("x-uuencode", "uuencode", "uue", "x-uue")


class SplitPart(EmailMessage):
    """A part as split, read-only as the parse stage uses it.

    The header list is a tuple, so a change fails loudly instead of leaving
    the lookups stale. A leaf's payload is a slice of the raw bytes read as
    ASCII with surrogate escapes, as the feed parser stores it.
    """

    def __init__(self, items: list[tuple[str, str]]) -> None:
        super().__init__(POLICY)
        self._headers = tuple(items)
        # Message.get answers with the first header of a name: the same lookup, by dict.
        self._first: dict[str, tuple[str, str]] = {}
        for item in items:
            self._first.setdefault(item[0].lower(), item)
        self._ctype: str | None = None

    def get(self, name: str, failobj: object = None) -> object:
        item = self._first.get(name.lower())
        return failobj if item is None else POLICY.header_fetch_parse(*item)

    def __contains__(self, name: str) -> bool:
        return name.lower() in self._first

    def raw_items(self) -> Iterator[tuple[str, str]]:
        return iter(self._headers)

    def get_content_type(self) -> str:
        if "content-type" not in self._first:
            return self.get_default_type()
        if self._ctype is None:
            self._ctype = super().get_content_type()
        return self._ctype

    def _get_params_preserve(self, failobj: object, header: str) -> object:
        value = self.get(header, None)
        if value is None:
            return failobj
        return list(_params(str(value)))

    def get_payload(self, i: int | None = None, decode: bool = False) -> object:
        payload = self._payload
        if i is not None or not isinstance(payload, str):
            return super().get_payload(i, decode)
        # Message.get_payload for a leaf, step by step; the header is read as it reads it.
        cte = str(self.get("content-transfer-encoding", "")).lower()
        if not decode:
            # Only 8-bit bytes (surrogates) are decoded with the charset: ASCII comes back as it is.
            return payload if payload.isascii() else super().get_payload()
        # What Message encodes it to, with surrogates or without (then it is ASCII).
        data = payload.encode("ascii", "surrogateescape")
        if cte == "quoted-printable":
            return binascii.a2b_qp(data)  # quopri.decodestring
        if cte == "base64":
            # b"".join(data.splitlines()): bytes split lines only at CR and LF.
            value, defects = decode_b(data.translate(None, b"\r\n"))
            for defect in defects:
                self.policy.handle_defect(self, defect)
            return value
        if cte in _UUENCODE:
            return super().get_payload(decode=True)
        return data


@lru_cache(maxsize=4096)
def _params(value: str) -> tuple[tuple[str, object], ...]:
    # Message._get_params_preserve itself, on the value alone: a pure function of it, so cached.
    one = Message()
    one._headers = [("x", value)]
    return tuple(one._get_params_preserve(None, "x"))
