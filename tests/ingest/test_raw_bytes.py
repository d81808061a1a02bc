"""The ledger keeps each message's bytes exactly as Dovecot stored them, so any decision can be replayed.

One message arrives over LMTP (Dovecot prepends Return-Path, Delivered-To
and Received), one by IMAP APPEND (stored as sent). Both carry what
careless handling damages: 8-bit Latin-1, CRLF line ends, trailing spaces,
tabs, folded encoded-word headers, a long line. ``Inquiry.raw`` must equal
the server's copy byte for byte, and triaging the stored bytes again gives
the decision that was recorded.
"""

from __future__ import annotations

import json

from bot.fetch import fetch_once
from bot.store import Inquiry
from tests.ingest.helpers import MAIL, SUPPORT, inquiry, message_id, run_cli, services

LATIN1 = MAIL / "spanish_latin1_8bit_crlf.eml"


def test_stored_raw_bytes_equal_dovecots_copy_and_replay_to_the_recorded_decision(
    dovecot, tmp_config, ledger, tmp_path
) -> None:
    original = LATIN1.read_bytes()
    dovecot.deliver(SUPPORT, original, mail_from="begona.nunez@example.es")
    appended = inquiry(7, language="es", topic="dose", tag="appended")
    dovecot.append(SUPPORT, "INBOX", appended)

    svc = services(tmp_config())
    try:
        assert dict(fetch_once(svc).states) == {"drafted": 2}
    finally:
        svc.close()

    on_server = {uid: raw for uid, _, raw in dovecot.messages(SUPPORT)}
    rows = {r.uid: r for r in ledger.rows()}
    assert sorted(rows) == sorted(on_server) == [1, 2]
    for uid, row in rows.items():
        assert ledger.raw(row.id) == on_server[uid], f"UID {uid}: stored bytes differ from Dovecot's"

    lmtp, imap = ledger.raw(rows[1].id), ledger.raw(rows[2].id)
    # Over LMTP: Dovecot's trace headers, then the delivered message untouched (8-bit, CRLF, spaces).
    assert lmtp.startswith(b"Return-Path: <begona.nunez@example.es>\r\nDelivered-To: support@example.org\r\n")
    assert lmtp.endswith(original)
    assert "Begoña".encode("latin-1") in lmtp and b"perdidos con todo esto.   \r\n" in lmtp
    # By APPEND: exactly the bytes sent.
    assert imap == appended
    assert rows[2].message_id == message_id(7, "appended")

    # Replay: triage the stored bytes from a file, as staff or a developer would.
    for row, raw in ((rows[1], lmtp), (rows[2], imap)):
        path = tmp_path / f"inquiry-{row.id}.eml"
        path.write_bytes(raw)
        [again] = [
            json.loads(line)
            for line in run_cli(tmp_config.write(), "triage", "--json", str(path)).stdout.splitlines()
        ]
        assert (again["message_id"], again["language"], again["action"], again["topics"]) == (
            row.message_id,
            row.language,
            row.action,
            row.topics,
        )
        assert again["reasons"] == row.reasons
    [latin] = ledger.rows(Inquiry.uid == 1)
    assert latin.subject == "Pregunta sobre la dosis de metilcobalamina para mi mamá"
    assert latin.from_name == "Begoña Núñez"
