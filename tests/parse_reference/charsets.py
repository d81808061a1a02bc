"""Decoding bytes whose charset label is missing, wrong or unknown (the parse stage's guesswork).

Mail is often mislabelled: UTF-8 marked us-ascii or iso-8859-1, Windows-1252
marked iso-8859-1, or labels Python does not know (``X-UNKNOWN``). Loose
labels are checked against the bytes: UTF-8 first, then Windows-1252, then
latin-1, which never fails. What was guessed is reported to the caller.
"""

from __future__ import annotations

import codecs
import re

# Labels that say little: mail marked with them is often really UTF-8 or Windows-1252.
_LOOSE = frozenset(
    {"", "us-ascii", "ascii", "iso-8859-1", "iso8859-1", "latin-1", "latin1", "windows-1252", "cp1252",
     "x-unknown", "unknown-8bit", "unknown", "default", "x-user-defined", "8bit", "none", "charset"}
)  # fmt: skip
_ALIASES = {
    "gb2312": "gb18030", "gbk": "gb18030", "ks_c_5601-1987": "cp949", "euc-kr": "cp949",
    "iso-8859-8-i": "iso-8859-8", "shift_jis": "cp932", "x-sjis": "cp932", "sjis": "cp932",
    "big5": "big5hkscs", "iso-2022-jp": "iso2022_jp_2", "x-mac-roman": "mac_roman",
    "macintosh": "mac_roman", "windows-874": "cp874", "tis-620": "cp874", "unicode-1-1-utf-7": "utf-7",
}  # fmt: skip
_LATIN = frozenset({"iso-8859-1", "iso8859-1", "latin-1", "latin1", "windows-1252", "cp1252"})
# Encodings whose bytes a UTF-8 check says nothing about: trust their label first.
_WIDE = ("utf-16", "utf_16", "utf-32", "utf_32", "utf-7", "utf_7", "iso2022", "cp932", "euc", "gb", "big5",
         "cp949", "cp950", "hz", "johab", "shift")  # fmt: skip
_ESCAPE_CODECS = frozenset({"unicode_escape", "raw_unicode_escape", "undefined", "idna", "punycode"})


def codec(label: str | None) -> str | None:
    """A text codec for a declared charset, or None for missing, loose or unknown labels."""
    name = (label or "").strip().strip("\"'").lower()
    name = _ALIASES.get(name, name)
    if name in _LOOSE or not re.fullmatch(r"[a-z0-9][a-z0-9_.:-]{0,40}", name):
        return None
    try:
        info = codecs.lookup(name)
    except LookupError:
        return None
    ok = info._is_text_encoding and info.name not in _ESCAPE_CODECS  # type: ignore[attr-defined]
    return info.name if ok else None


def decode_bytes(data: bytes, declared: str | None) -> tuple[str, str | None]:
    """Text for ``data`` and a note when the declared charset was wrong or unknown.

    Loose or unknown labels are read as ASCII, else UTF-8 when the bytes are
    valid UTF-8, else Windows-1252 (the superset ISO-8859-1 mail really is).
    A declared charset the bytes do not fit is overridden the same way.
    """
    name = codec(declared)
    label = (declared or "").strip().lower()[:40]
    if name and name.startswith(_WIDE):
        try:
            return data.decode(name), None
        except UnicodeDecodeError:
            pass
    if data.isascii() and not name or name in ("ascii", "utf-8"):
        try:
            return data.decode("ascii" if data.isascii() else "utf-8"), None
        except UnicodeDecodeError:
            pass
    try:
        text = data.decode("utf-8")
        return text, (f"charset {label or 'missing'} read as utf-8" if name != "utf-8" else None)
    except UnicodeDecodeError:
        pass
    if name and name != "utf-8":
        try:
            return data.decode(name), None
        except UnicodeDecodeError:
            pass
    loose = data.decode("utf-8", "replace")
    if name == "utf-8" and any(ch > "\x7f" and ch != "\ufffd" for ch in loose):
        return loose, "invalid utf-8 bytes replaced"
    # A Latin label read as Windows-1252 is the usual reading, not worth a note.
    note = None if label in _LATIN else f"charset {label or 'missing'} read as windows-1252"
    try:
        return data.decode("cp1252"), note
    except UnicodeDecodeError:  # the five bytes Windows-1252 leaves undefined
        return data.decode("latin-1"), note
