"""Reading an inbound message's headers: decoded, on one line, and never raising.

Encoded words with bad charsets are repaired, addresses are parsed leniently
and lower-cased, and Message-IDs and dates are read robustly; what was wrong
is noted in ``defects`` for the parse stage.
"""

from __future__ import annotations

import binascii
import email
import email.utils
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from bot.charsets import decode_bytes
from bot.fastaddress import PlainAddressHeader
from bot.parse_error import POLICY

_BARE_ADDRESS = re.compile(r"[^\s<>\"'(),;:@]+@[^\s<>\"'(),;:@]+")
MSGID = re.compile(r"<([^<>\s]{1,900})>")
_ENCODED_WORD = re.compile(r"=\?([^?\s]{1,80})\?([qQbB])\?([^?\s]*)\?=")
_EW = r"=\?[^?\s]{1,80}\?[qQbB]\?[^?\s]*\?="
_EW_RUN = re.compile(rf"{_EW}(?:[ \t\r\n]+{_EW})*")
# Only address headers need the email package's (slow) structured parse.
_ADDRESS_HEADERS = frozenset({"from", "sender", "to", "cc", "bcc", "reply-to", "resent-from", "resent-to"})
_FOLD = re.compile(r"\r?\n(?=[ \t])|\r?\n$")
_SURROGATES = re.compile(r"[\ud800-\udfff]")
_ESCAPED_RUN = re.compile(r"[\ud800-\udfff]+")
HEADER_JUNK = re.compile(r"[\x00-\x1f\x7f]+")
_C1 = re.compile(r"[\x80-\x9f]")


def decode_words(value: str, *, structured: bool = False) -> str:
    """Decode runs of RFC 2047 encoded words, guessing bad charsets.

    Python decodes each word alone with its declared charset; a character
    split over two words, a Windows-1252 word labelled ISO-8859-1 or an
    ``X-UNKNOWN`` word would come out as replacement characters. For a
    ``structured`` (address) header each run becomes one UTF-8 encoded word
    instead, so that a decoded "<" or "," cannot change the addresses.
    """

    def run(match: re.Match[str]) -> str:
        words = _ENCODED_WORD.findall(match.group(0))
        out, chunk, charset = [], b"", None
        for cs, enc, data in words:
            cs = cs.split("*", 1)[0].lower()
            raw = _ew_bytes(enc, data)
            if charset is not None and cs != charset:
                out.append(decode_bytes(chunk, charset)[0])
                chunk = b""
            chunk, charset = chunk + raw, cs
        out.append(decode_bytes(chunk, charset)[0])
        text = "".join(out)
        if not structured:
            return text
        return "=?utf-8?b?" + binascii.b2a_base64(text.encode(), newline=False).decode() + "?="

    return _EW_RUN.sub(run, value) if "=?" in value else value


def _ew_bytes(enc: str, data: str) -> bytes:
    if enc in "bB":
        try:
            return binascii.a2b_base64(data + "=" * (-len(data) % 4))
        except binascii.Error:
            return data.encode("ascii", "replace")
    return email.quoprimime.header_decode(data).encode("latin-1", "replace")


def fix_text(value: str) -> str:
    """Undo surrogate escapes (raw 8-bit bytes in headers) by decoding them as mail text.

    Each run of 8-bit bytes is read on its own (UTF-8, else Windows-1252),
    because one header may hold words pasted from differently encoded sources.
    """
    if value.isascii() or not _SURROGATES.search(value):
        return value
    return _ESCAPED_RUN.sub(_decode_run, value)


def _decode_run(match: re.Match[str]) -> str:
    try:
        return decode_bytes(match.group().encode("utf-8", "surrogateescape"), None)[0]
    except UnicodeEncodeError:  # lone surrogates that were never bytes
        return "\ufffd" * len(match.group())


def _cp1252_controls(value: str) -> str:
    # C1 controls never occur in real text: they are Windows-1252 read as ISO-8859-1.
    return _C1.sub(lambda m: m.group().encode("latin-1").decode("cp1252", "replace"), value)


# By lower-case name: (parsed address header or None, value as decoded, clean one-line value).
_Parsed = dict[str, list[tuple[object | None, str, str]]]


def read_headers(
    items: Iterable[tuple[str, object]],
    defects: list[str],
    address_header: Callable[[str, str], object] = POLICY.header_factory,
) -> tuple[list[tuple[str, str]], _Parsed]:
    """Every header as (name, clean value), and every header by lower-case name.

    ``items`` are the message's ``raw_items()``; ``address_header`` parses
    an address header as ``email.policy.default`` does (the parse stage
    passes a faster one that gives the same header for simple addresses).
    """
    pairs: list[tuple[str, str]] = []
    parsed: _Parsed = {}
    for name, raw in items:
        name = str(name)
        # Printable ASCII (nearly every header) has nothing to repair: the checks are skipped.
        if not (name.isascii() and name.isprintable()):
            name = HEADER_JUNK.sub("", fix_text(name))
        name = name[:200]
        lname = name.lower()
        structured = lname in _ADDRESS_HEADERS
        raw = str(raw)
        if not structured and raw.isascii() and raw.isprintable() and "=?" not in raw:
            # One line of printable ASCII and no encoded word: nothing to unfold, decode or repair.
            text = " ".join(raw.split())
            pairs.append((name, text))
            parsed.setdefault(lname, []).append((None, raw, text))
            continue
        unfolded = _FOLD.sub("", raw) if "\n" in raw else raw
        value = decode_words(fix_text(unfolded), structured=structured)
        header: object | None = None
        text = value
        if structured:
            try:
                header = address_header(name, value)
                text = str(header)
                defects.extend(f"{name}: {type(d).__name__}" for d in header.defects)
            except Exception:  # noqa: BLE001 - a header the email package cannot parse is kept raw
                header = None
                defects.append(f"{name}: unparseable")
        if not (text.isascii() and text.isprintable()):
            text = HEADER_JUNK.sub(" ", _cp1252_controls(fix_text(text)))
        text = " ".join(text.split())
        pairs.append((name, text))
        parsed.setdefault(lname, []).append((header, value, text))
    return pairs, parsed


def addresses(values: list[tuple[object | None, str, str]]) -> list[tuple[str, str]]:
    """(display name, lower-cased address) for every address in the headers ``values``."""
    found: list[tuple[str, str]] = []
    for header, value, _ in values:
        try:
            addrs = [(a.display_name, a.addr_spec) for a in header.addresses]  # type: ignore[union-attr]
        except Exception:  # noqa: BLE001 - unparsable: fall back to the lenient parser
            addrs = []
        # The lenient reading is needed only when the strict one lacks an address or a name;
        # for the plain mailboxes of bot.fastaddress it cannot fail, so it is left until then.
        lenient = None if isinstance(header, PlainAddressHeader) else _lenient(value)
        if not any(addr for _, addr in addrs):
            addrs = lenient if lenient is not None else _lenient(value)
        elif not any(name for name, _ in addrs):
            lenient = lenient if lenient is not None else _lenient(value)
            # The old comment form, "MAILER-DAEMON@host (Mail Delivery System)", names only there.
            names = {addr.lower(): name for name, addr in lenient}
            addrs = [(names.get(addr.lower(), ""), addr) for _, addr in addrs]
        if not any("@" in addr for _, addr in addrs):
            # Last resort for escaped or garbled forms ("<Postmaster\\@host@relay>").
            bare = _BARE_ADDRESS.search(value.replace("\\", ""))
            addrs = [("", bare.group(0))] if bare else addrs
        for name, addr in addrs:
            addr = addr.strip().strip("<>").lower()
            # No blank in it (split() cuts at exactly the characters isspace() accepts).
            if addr and addr.split() == [addr]:
                found.append((" ".join(str(name).split()), addr))
    return found


def _lenient(value: str) -> list[tuple[str, str]]:
    return [(decode_words(n), a) for n, a in email.utils.getaddresses([value])]


def first(parsed: _Parsed, name: str) -> str:
    values = parsed.get(name)
    return values[0][2] if values else ""


def message_id_of(value: str, content_hash: str) -> tuple[str, bool]:
    match = MSGID.search(value)
    if match:
        return f"<{match.group(1)}>", False
    bare = value.strip()
    if bare and "@" in bare and " " not in bare and len(bare) < 900:
        return f"<{bare.strip('<>')}>", False
    return f"<{content_hash[:32]}@synthetic.invalid>", True


def parse_date(value: str) -> datetime | None:
    if not value:
        return None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when


# -- charsets ---------------------------------------------------------------
