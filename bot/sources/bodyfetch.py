"""``UID FETCH (BODY.PEEK[])`` for a batch, with imapclient's result at a fraction of its CPU.

Most of what ``IMAPClient.fetch(uids, [b"BODY.PEEK[]"])`` spends per message is
not the protocol: imapclient turns imaplib's debug level up to 5 and sends its
messages to a logger, so imaplib formats ``repr()`` of every message body
(twice) for a logger that drops them, and imapclient's generic lexer then
walks every response token by token. Here the same command goes out on the
same ``imaplib.IMAP4`` object and its response is read by a copy of imaplib's
reading loop without those debug messages: every untagged response lands in
``untagged_responses`` exactly as imaplib would leave it (FETCH ones are popped,
as imapclient does; EXISTS, EXPUNGE and the like stay for whoever reads them),
and NO, BAD, BYE and lost connections raise the same exceptions with the same
messages. The FETCH responses are read by a parser for the two shapes Dovecot
and others send for this command; anything else (flag updates, other items,
NIL) goes to imapclient's own ``parse_fetch_response`` on the same data.
"""

from __future__ import annotations

import imaplib
import logging
import re
from typing import Any

from imapclient import IMAPClient
from imapclient.imapclient import join_message_ids, seq_to_parenstr_upper
from imapclient.response_parser import parse_fetch_response

# Where IMAPClient sends imaplib's debug messages: when it records them, the
# messages are the point, so imapclient does the fetch.
_IMAPLIB_LOG = logging.getLogger("imapclient.imaplib")
_ITEMS = seq_to_parenstr_upper([b"BODY.PEEK[]"])
# imaplib keeps ``SEQ (ITEMS {size}`` of a response with a literal, then the rest of the line.
_UID_FIRST = re.compile(rb"\d+ \(UID (\d+) BODY\[\] \{(\d+)\}")
_BODY_FIRST = re.compile(rb"\d+ \(BODY\[\] \{(\d+)\}")
_UID_LAST = re.compile(rb" UID (\d+)\)")


def fetch_bodies(client: IMAPClient, uids: list[int]) -> dict[int, bytes | None]:
    """UID -> raw bytes of each of ``uids`` in the selected folder (``BODY.PEEK[]``: none marked seen).

    The same dict, the same exceptions and the same connection state as
    ``{uid: item[b"BODY[]"] for uid, item in client.fetch(uids, [b"BODY.PEEK[]"]).items()
    if b"BODY[]" in item}``: UIDs the server does not answer for are left out, and
    one it answers ``BODY[] NIL`` for (Dovecot does for a message another session
    expunged since this one last heard) maps to None.
    """
    imap = client._imap
    # debug >= 4 is what keeps imaplib from logging lines into its own ring buffer instead.
    if not uids or not client.use_uid or imap.debug < 4 or _IMAPLIB_LOG.isEnabledFor(logging.DEBUG):
        data = client.fetch(uids, [b"BODY.PEEK[]"])
        return {uid: item[b"BODY[]"] for uid, item in data.items() if b"BODY[]" in item}
    tag = imap._command("UID", "FETCH", join_message_ids(uids), _ITEMS, None)
    typ, data = _command_complete(imap, tag)
    client._checkok("fetch", typ, data)
    return bodies(imap.untagged_responses.pop("FETCH", [None]), client.normalise_times)


def bodies(responses: list[Any], normalise_times: bool = True) -> dict[int, bytes | None]:
    """UID -> ``BODY[]`` of the FETCH responses imaplib stored, read as imapclient reads them.

    ``responses`` is ``untagged_responses["FETCH"]``; ``normalise_times`` is the client's.
    """
    found = _simple_bodies(responses)
    if found is None:
        parsed = parse_fetch_response(responses, normalise_times, True)
        found = {uid: item[b"BODY[]"] for uid, item in parsed.items() if b"BODY[]" in item}
    return found


def _simple_bodies(responses: list[Any]) -> dict[int, bytes | None] | None:
    """The bodies when every response is ``UID u BODY[] {n}`` or ``BODY[] {n} UID u`` alone; else None."""
    if len(responses) % 2:
        return None
    found: dict[int, bytes | None] = {}
    pairs = iter(responses)
    # imaplib stores a response as its (line, literal) tuples then the line's end: alone, one pair.
    for head, tail in zip(pairs, pairs, strict=True):
        if type(head) is not tuple or type(tail) is not bytes:
            return None
        line, body = head
        if tail == b")" and (match := _UID_FIRST.fullmatch(line)):
            uid, size = match.groups()
        elif (match := _BODY_FIRST.fullmatch(line)) and (last := _UID_LAST.fullmatch(tail)):
            size, uid = match.group(1), last.group(1)
        else:
            return None
        if int(size) != len(body):  # cut short by a lost connection: imapclient's reading decides
            return None
        # Assigning keeps a repeated UID at its first place with its last body, as imapclient's update.
        found[int(uid)] = body
    return found


def _command_complete(imap: Any, tag: bytes) -> tuple[str, list[Any]]:
    """imaplib's ``_command_complete("FETCH", tag)``: the tagged (type, data); raises as it does."""
    imap._check_bye()
    try:
        typ, data = _tagged_response(imap, tag)
    except imap.abort as val:
        raise imap.abort(f"command: FETCH => {val}")  # noqa: B904 - chained implicitly, as imaplib does
    except imap.error as val:
        raise imap.error(f"command: FETCH => {val}")  # noqa: B904
    imap._check_bye()
    if typ == "BAD":
        raise imap.error(f"FETCH command error: {typ} {data}")
    return typ, data


def _tagged_response(imap: Any, tag: bytes) -> tuple[str, list[Any]]:
    """imaplib's ``_get_tagged_response``: read responses until ``tag``'s arrives."""
    tagged = imap.tagged_commands
    while True:
        result = tagged[tag]
        if result is not None:
            del tagged[tag]
            return result
        # A BYE read in the last round: the server is closing the connection.
        imap._check_bye()
        _read_response(imap)


def _read_response(imap: Any) -> None:
    """imaplib's ``_get_response`` without its debug messages: reads one response and stores it as it does."""
    resp = _read_line(imap)
    if mo := imap.tagre.match(resp):
        tag = mo.group("tag")
        if tag not in imap.tagged_commands:
            raise imap.abort(f"unexpected tagged response: {resp!r}")
        typ = str(mo.group("type"), imap._encoding)
        dat = mo.group("data")
        imap.tagged_commands[tag] = (typ, [dat])
    else:
        dat2 = None
        mo = imaplib.Untagged_response.match(resp)
        if mo is None and (mo := imap.Untagged_status.match(resp)):
            dat2 = mo.group("data2")
        if mo is None:
            if cont := imaplib.Continuation.match(resp):
                imap.continuation_response = cont.group("data")
                return
            raise imap.abort(f"unexpected response: {resp!r}")
        typ = str(mo.group("type"), imap._encoding)
        dat = mo.group("data")
        if dat is None:
            dat = b""
        if dat2:
            dat = dat + b" " + dat2
        while literal := imap.Literal.match(dat):
            data = imap.read(int(literal.group("size")))
            _append(imap, typ, (dat, data))
            dat = _read_line(imap)
        _append(imap, typ, dat)
    if typ in ("OK", "NO", "BAD") and (code := imaplib.Response_code.match(dat)):
        _append(imap, str(code.group("type"), imap._encoding), code.group("data"))


def _read_line(imap: Any) -> bytes:
    """imaplib's ``_get_line``: a line without its CRLF; a closed or broken connection raises ``abort``."""
    line = imap.readline()
    if not line:
        raise imap.abort("socket error: EOF")
    if not line.endswith(b"\r\n"):
        raise imap.abort(f"socket error: unterminated line: {line!r}")
    return line[:-2]


def _append(imap: Any, typ: str, dat: Any) -> None:
    """imaplib's ``_append_untagged``."""
    if dat is None:
        dat = b""
    responses = imap.untagged_responses
    if typ in responses:
        responses[typ].append(dat)
    else:
        responses[typ] = [dat]
