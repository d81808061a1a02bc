"""A fast MIME splitter for well-formed mail, building the tree the email package would.

``email.message_from_bytes`` reads a message line by line through a stack
of regular expressions: about 0.1 ms for a short inquiry, but 7 ms for one
with a 100 KB attachment, and every header it is asked about is parsed
again into a header object. :func:`split_message` builds the same tree of
:class:`~email.message.EmailMessage` parts (:class:`bot.mimepart.SplitPart`,
which answer the MIME walk cheaply) for mail that needs none of the feed
parser's repairs: boundaries are found with ``str.find``, payloads are
sliced, and header objects come from :mod:`bot.fastheaders` (made by the
email package once, not once a message).

It returns None whenever the message is outside what it handles exactly:
a bare CR in a header or next to a boundary (the feed parser ends lines
there), a header block the feed parser would flag as defective,
a missing or repeated boundary, ``message/*`` parts (forwards, reports),
``multipart/digest``, a non-identity transfer encoding on a multipart, or
more parts or depth than the limits. The caller then uses the email
package, so every message gets the tree the feed parser would have built
(``tests/test_parse_fast.py`` compares both on the corpora).
"""

from __future__ import annotations

import re
from email.message import EmailMessage

from bot.mimepart import SplitPart

# The feed parser's own test for a header line (or a continuation, or a Unix From line).
_HEADER_LINE = re.compile(r"^(From |[\041-\071\073-\176]*:|[\t ])")
# A header block as nearly all mail writes it: fields (a name, a colon, continuation lines)
# and nothing else. Read whole by two expressions; anything else goes line by line.
_FIELD = r"([\041-\071\073-\176]+):[ \t]*([^\n]*\n(?:[ \t][^\n]*\n)*)"
_FIELDS = re.compile(rf"(?:{_FIELD})*")
_ONE_FIELD = re.compile(_FIELD)


class _Tooling(Exception):
    """The message needs the feed parser: raised inside, never escapes split_message."""


def split_message(
    raw: bytes, max_parts: int, max_depth: int
) -> tuple[list[tuple[str, str]], EmailMessage] | None:
    """(raw header items, message tree) as ``email.message_from_bytes(raw, policy=default)`` would build them.

    The header items are (name, value) exactly as the email package stores
    them (``raw_items()``). None when the message needs the feed parser.
    """
    # One character a byte, as the feed parser reads it; offsets in text are offsets in raw.
    text = raw.decode("ascii", "surrogateescape")
    counter = [0]
    try:
        root = _part(text, 0, len(text), None, 0, counter, max_parts, max_depth, [])
    except Exception:  # noqa: BLE001 - _Tooling, or a header the email package fails on: it decides
        return None
    return list(root._headers), root


def _headers(text: str, pos: int, end: int) -> tuple[list[tuple[str, str]], int]:
    """The header items of the part at ``pos`` and where its body starts."""
    stop = _FIELDS.match(text, pos, end).end()
    block = text[pos:stop]
    if "\r" not in block or block.count("\r") == block.count("\r\n"):  # no bare CR
        # What _source makes of each field; the blank line after them starts the body.
        if stop == end:
            return [(n, v.rstrip("\r\n")) for n, v in _ONE_FIELD.findall(block)], end
        if text.startswith("\n", stop, end) or text.startswith("\r\n", stop, end):
            body = text.index("\n", stop) + 1
            return [(n, v.rstrip("\r\n")) for n, v in _ONE_FIELD.findall(block)], body
    return _header_lines(text, pos, end)


def _header_lines(text: str, pos: int, end: int) -> tuple[list[tuple[str, str]], int]:
    """_headers line by line, as the feed parser reads them: any header block."""
    items: list[tuple[str, str]] = []
    lines: list[str] = []
    lineno = 0
    body = end
    while pos < end:
        nl = text.find("\n", pos, end)
        stop = end if nl < 0 else nl + 1
        line = text[pos:stop]
        if _bare_cr(line):
            raise _Tooling
        if not _HEADER_LINE.match(line):
            if line not in ("\n", "\r\n"):
                raise _Tooling  # a body with no blank line above it
            body = stop
            break
        if line[0] in " \t":
            if not lines:
                raise _Tooling  # a continuation with no header
            lines.append(line)
        elif line.startswith("From "):
            if lineno:
                raise _Tooling  # a misplaced envelope line
        else:
            if line[0] == ":":
                raise _Tooling  # no header name
            if lines:
                items.append(_source(lines))
            lines = [line]
        lineno += 1
        pos = stop
    if lines:
        items.append(_source(lines))
    return items, body


def _source(lines: list[str]) -> tuple[str, str]:
    # EmailPolicy.header_source_parse, inlined.
    name, value = lines[0].split(":", 1)
    value = value.lstrip(" \t") + "".join(lines[1:])
    return name, value.rstrip("\r\n")


def _part(
    text: str,
    pos: int,
    end: int,
    parent: SplitPart | None,
    depth: int,
    counter: list[int],
    max_parts: int,
    max_depth: int,
    boundaries: list[str],
) -> SplitPart:
    """The part in ``text[pos:end]``; a leaf's payload is sliced whole (the caller trims its line end)."""
    counter[0] += 1
    if counter[0] > max_parts or depth > max_depth:
        raise _Tooling  # the feed parser's tree, then the walk, decides the error
    items, body = _headers(text, pos, end)
    msg = SplitPart(items)
    if parent is not None and parent.get_content_type() == "multipart/digest":
        raise _Tooling  # its parts default to message/rfc822
    if msg.get_content_maintype() == "message":
        raise _Tooling  # forwards and reports: parsed again inside
    if msg.get_content_maintype() != "multipart":
        msg._payload = text[body:end]
        return msg
    boundary = msg.get_boundary()
    if boundary is None:
        raise _Tooling
    if str(msg.get("content-transfer-encoding", "8bit")).lower() not in ("7bit", "8bit", "binary"):
        raise _Tooling
    if any(b.startswith(boundary) or boundary.startswith(b) for b in boundaries):
        raise _Tooling  # one boundary line could end two levels
    msg._payload = []
    starts = _boundary_lines(text, body, end, "--" + boundary)
    if len(starts) < 2 or starts[0][2] or not starts[-1][2]:
        raise _Tooling  # no opening or no closing boundary, or a part before the first
    for (_, after, _), (nxt, _, _) in zip(starts, starts[1:], strict=False):
        if after == nxt:
            raise _Tooling  # two boundary lines in a row: the feed parser skips one
        child = _part(
            text, after, nxt, msg, depth + 1, counter, max_parts, max_depth, [*boundaries, boundary]
        )
        if isinstance(child._payload, str):
            # RFC 2046: the line end before a boundary belongs to the boundary.
            payload = child._payload
            if payload.endswith("\r\n"):
                child._payload = payload[:-2]
            elif payload.endswith("\n"):
                child._payload = payload[:-1]
        msg._payload.append(child)
    return msg


def _boundary_lines(text: str, pos: int, end: int, sep: str) -> list[tuple[int, int, bool]]:
    """(line start, next line start, closing) of each boundary line up to the closing one."""
    found: list[tuple[int, int, bool]] = []
    start = pos
    while True:
        at = text.find(sep, pos, end)
        if at < 0:
            return found
        if at != start and text[at - 1] != "\n":
            if text[at - 1] == "\r":
                raise _Tooling  # a bare CR ends a line for the feed parser: a boundary may start here
            pos = at + 1
            continue
        nl = text.find("\n", at, end)
        stop = end if nl < 0 else nl + 1
        pos = stop
        rest = text[at + len(sep) : stop]
        if _bare_cr(rest):
            raise _Tooling
        # The feed parser's boundary expression: sep, "--" to close, blanks, a line end.
        closing = rest.startswith("--") and rest[2:].lstrip(" \t") in ("", "\n", "\r\n")
        if closing or rest.lstrip(" \t") in ("", "\n", "\r\n"):
            found.append((at, stop, closing))
            if closing:
                return found


def _bare_cr(line: str) -> bool:
    """Whether ``line`` has a CR that does not end it as CRLF (the feed parser splits lines there)."""
    cr = line.find("\r")
    return cr >= 0 and (cr != len(line) - 2 or line[-1] != "\n")
