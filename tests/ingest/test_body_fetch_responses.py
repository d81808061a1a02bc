"""fetch_bodies reads any server's FETCH response as imapclient's fetch did: same dict, errors and state.

Dovecot shows one shape of response (see test_body_fetch.py); here a scripted
server on loopback sends the others: ``BODY[]`` before ``UID``, NUL and
IMAP-looking lines inside literals, unsolicited responses in between, NO,
BAD, BYE, a cut connection, garbage. Each script is played to two fresh
connections, one read by the code ImapSource.fetch ran before fetch_bodies
(:func:`reference_fetch`) and one by fetch_bodies; the result or exception
and what the connection keeps afterwards must be the same.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from typing import Any

import pytest
from imapclient import IMAPClient

from bot.sources.bodyfetch import fetch_bodies
from tests.ingest.scripted_imap import ScriptedImap

OK = b"<TAG> OK Fetch completed (0.001 + 0.000 secs).\r\n"
UIDS = [10, 11, 12, 13]
TRICKY = [
    b"",
    b"a\x00b\x00",
    b"lone\rcr and lone\nlf\r\n",
    b")\r\n* 3 FETCH (UID 9 BODY[] {5}\r\nhello)\r\n",
    b"Subject: x\r\n\r\n{123}\r\n",
    b"* BYE not really\r\nA0001 OK not really\r\n+ not a continuation\r\n",
    bytes(range(256)) * 40,
]


def reference_fetch(client: IMAPClient, uids: list[int]) -> dict[int, bytes]:
    """ImapSource.fetch before fetch_bodies: imapclient's fetch."""
    data = client.fetch(uids, [b"BODY.PEEK[]"])
    return {uid: item[b"BODY[]"] for uid, item in data.items() if b"BODY[]" in item}


def uid_first(seq: int, uid: int, body: bytes) -> bytes:
    return b"* %d FETCH (UID %d BODY[] {%d}\r\n%s)\r\n" % (seq, uid, len(body), body)


def body_first(seq: int, uid: int, body: bytes) -> bytes:
    return b"* %d FETCH (BODY[] {%d}\r\n%s UID %d)\r\n" % (seq, len(body), body, uid)


def outcome(fetch: Callable[..., dict[int, bytes]], server: ScriptedImap, before: int = 0) -> tuple:
    """What a fresh connection makes of the script (``before`` NOOPs, the fetch, a NOOP) and keeps of it."""
    client = connect(server)
    try:
        steps = [*([client.noop] * before), lambda: list(fetch(client, UIDS).items()), client.noop]
        results = []
        for step in steps:
            try:
                results.append(("returned", step()))
            except Exception as exc:  # noqa: BLE001 - the exception is what is compared
                results.append(("raised", type(exc), str(exc), type(exc.__context__)))
        imap = client._imap
        continuation = getattr(imap, "continuation_response", None)
        kept = results, imap.untagged_responses, imap.tagged_commands, continuation
    finally:
        client.shutdown()
    return (*kept, server.last_received())


def connect(server: ScriptedImap) -> IMAPClient:
    """A client whose tags are the same as every other's here, so that error messages and state compare."""
    saved = random.getstate()
    random.seed(0)  # imaplib picks its tag prefix with random.randint
    try:
        return server.client()
    finally:
        random.setstate(saved)


def assert_same(replies: list[bytes], before: int = 0) -> Any:
    with ScriptedImap(replies) as server:
        expected = outcome(reference_fetch, server, before)
        assert outcome(fetch_bodies, server, before) == expected
    return expected[0][before]


SCRIPTS = {
    "dovecot_order": [b"".join(uid_first(n, uid, b"body %d" % uid) for n, uid in enumerate(UIDS, 1)) + OK],
    "body_before_uid": [b"".join(body_first(n, uid, b"body %d" % uid) for n, uid in enumerate(UIDS, 1)) + OK],
    "tricky_literals": [b"".join(uid_first(n, 10 + n, body) for n, body in enumerate(TRICKY)) + OK],
    "tricky_body_first": [b"".join(body_first(n, 10 + n, body) for n, body in enumerate(TRICKY)) + OK],
    "unsolicited_between": [
        b"* 4 EXISTS\r\n"
        + uid_first(1, 10, b"one")
        + b"* 2 EXPUNGE\r\n* 3 FETCH (FLAGS (\\Seen))\r\n* 1 RECENT\r\n* OK [ALERT] look\r\n"
        + uid_first(2, 12, b"two")
        + b"* NO [OVERQUOTA] full\r\n* 12 FETCH (FLAGS ())\r\n"
        + OK
    ],
    "flags_update_on_a_fetched_uid_first": [b"* 12 FETCH (FLAGS ())\r\n" + uid_first(2, 12, b"x") + OK],
    "flags_with_the_body": [b"* 1 FETCH (UID 10 FLAGS (\\Seen) BODY[] {3}\r\nabc)\r\n" + OK],
    "body_nil": [b"* 1 FETCH (UID 10 BODY[] NIL)\r\n" + uid_first(2, 11, b"x") + OK],
    "body_quoted": [b'* 1 FETCH (UID 10 BODY[] "abc")\r\n' + OK],
    "two_literals_in_one_response": [b"* 1 FETCH (UID 10 BODY[] {1}\r\na BODY[1] {1}\r\nb)\r\n" + OK],
    "lowercase": [b"* 1 FETCH (uid 10 body[] {3}\r\nabc)\r\n" + OK],
    "same_uid_twice": [uid_first(1, 10, b"a") + uid_first(2, 11, b"b") + uid_first(3, 10, b"c") + OK],
    "no_messages": [OK],
    "tagged_ok_with_code": [uid_first(1, 10, b"a") + b"<TAG> OK [READ-ONLY] Done.\r\n"],
    "tagged_no": [uid_first(1, 10, b"a") + b"<TAG> NO [SERVERBUG] Internal error.\r\n"],
    "tagged_bad": [b"<TAG> BAD Error in IMAP command UID FETCH: Invalid uidset\r\n"],
    "bye_in_the_middle": [uid_first(1, 10, b"a") + b"* BYE Server shutting down.\r\n<CLOSE>"],
    "cut_inside_a_literal": [b"* 1 FETCH (UID 10 BODY[] {100}\r\nabc<CLOSE>"],
    "cut_after_a_literal": [uid_first(1, 10, b"a") + b"* 2 FETCH (UID 11 BODY[] {1}\r\nb<CLOSE>"],
    "unterminated_line": [b"* 1 FETCH (UID 10 BODY[] {3}\r\nabc)<CLOSE>"],
    "continuation": [b"+ go ahead\r\n" + uid_first(1, 10, b"a") + OK],
    "garbage": [uid_first(1, 10, b"a") + b"garbage\r\n" + OK],
    "unknown_tag": [uid_first(1, 10, b"a") + b"<TAG>7 OK Done.\r\n" + OK],
}


@pytest.mark.parametrize("name", SCRIPTS)
def test_fetch_bodies_reads_each_server_response_as_imapclient_did(name: str) -> None:
    assert_same(SCRIPTS[name])


def test_bodies_come_back_whole_whatever_bytes_they_hold() -> None:
    result = assert_same(SCRIPTS["tricky_body_first"])
    assert result == ("returned", [(10 + n, body) for n, body in enumerate(TRICKY)])


def test_fetch_responses_left_by_an_earlier_command_are_read_as_imapclient_did() -> None:
    noop = b"* 3 FETCH (FLAGS (\\Seen))\r\n<TAG> OK NOOP completed.\r\n"
    assert_same([noop, uid_first(1, 10, b"a") + OK], 1)


def test_a_bye_left_by_an_earlier_command_fails_the_fetch_as_imapclient_did() -> None:
    result = assert_same([b"* BYE Disconnected for inactivity.\r\n<TAG> OK NOOP completed.\r\n"], 1)
    assert result[0] == "raised"


def _random_response(rng: random.Random, seq: int) -> bytes:
    pieces = [b"UID %d" % rng.choice(UIDS + [99]), b"BODY[] {%d}\r\n%%s" % 0]
    body = rng.choice(TRICKY) + bytes(rng.randrange(256) for _ in range(rng.randrange(60)))
    pieces[1] = b"BODY[] {%d}\r\n%s" % (len(body), body)
    if rng.random() < 0.5:
        pieces.reverse()
    if rng.random() < 0.1:
        pieces.insert(rng.randrange(3), b"FLAGS (\\Seen $Label)")
    return b"* %d FETCH (%s)\r\n" % (seq, b" ".join(pieces))


UNSOLICITED = [b"* 7 EXISTS\r\n", b"* 2 EXPUNGE\r\n", b"* 3 FETCH (FLAGS (\\Deleted))\r\n", b"* 1 RECENT\r\n"]


@pytest.mark.parametrize("seed", range(60))
def test_fetch_bodies_matches_imapclient_on_random_responses(seed: int) -> None:
    rng = random.Random(seed)
    lines = [_random_response(rng, seq) for seq in range(1, rng.randrange(1, 8))]
    for _ in range(rng.randrange(3)):
        lines.insert(rng.randrange(len(lines) + 1), rng.choice(UNSOLICITED))
    assert_same([b"".join(lines) + OK])


def test_with_imaplib_debug_logging_on_the_fetch_logs_what_imapclient_logs(caplog) -> None:  # type: ignore[no-untyped-def]
    logs = []
    for fetch in (reference_fetch, fetch_bodies):
        with ScriptedImap(SCRIPTS["dovecot_order"]) as server:
            client = connect(server)
            with caplog.at_level(logging.DEBUG, logger="imapclient.imaplib"):
                caplog.clear()
                fetch(client, UIDS)
                logs.append([r.getMessage() for r in caplog.records])
            client.shutdown()
    assert logs[0] == logs[1] and logs[0]
