"""bot.mimepart.SplitPart answers every question the parse stage asks as a plain EmailMessage does.

Each part that :func:`bot.mimesplit.split_message` builds from every stored,
generated and damaged message is asked the MIME walk's questions, and so is
a plain ``EmailMessage`` with the same headers and payload: the answers
(decoded payloads and the defects decoding leaves included) must be equal.
"""

from __future__ import annotations

import base64
import random
from collections.abc import Iterator
from email.message import EmailMessage

from bot.mimepart import SplitPart
from bot.mimesplit import split_message
from bot.parse_error import MAX_DEPTH
from tests.test_parse_fast import damaged, generated, stored


def answers(part: EmailMessage) -> list[object]:
    """What the MIME walk reads of a part, each answer or the exception it raised."""
    out: list[object] = []
    for ask in (
        lambda: part.get_content_type(),
        lambda: part.is_multipart(),
        lambda: None if part.is_multipart() else part.get_payload(),
        lambda: part.get_payload(decode=True),
        lambda: [type(d).__name__ for d in part.defects],
        lambda: part.get_content_charset(),
        lambda: part.get_filename(),
        lambda: part.is_attachment(),
        lambda: part.get_boundary(),
        lambda: str(part.get("content-language") or ""),
        lambda: "content-type" in part,
    ):
        try:
            out.append(ask())
        except Exception as exc:  # noqa: BLE001 - the same failure is the same answer
            out.append(type(exc).__name__)
    return out


def plain_copy(part: SplitPart) -> EmailMessage:
    copy = EmailMessage(part.policy)
    copy._headers = list(part._headers)
    copy._payload = part._payload
    return copy


def parts(raws: Iterator[bytes]) -> Iterator[SplitPart]:
    for raw in raws:
        split = split_message(raw, 200, MAX_DEPTH)
        if split is None:
            continue
        stack = [split[1]]
        while stack:
            part = stack.pop()
            yield part
            if part.is_multipart():
                stack.extend(part.get_payload())


def odd_leaves() -> Iterator[bytes]:
    """Leaves with every transfer encoding, bad base64, 8-bit bytes and odd charsets."""
    rnd = random.Random(9)
    data = base64.encodebytes(rnd.randbytes(300)).replace(b"\n", b"\r\n")
    bodies = [data, data[:-3], data.replace(b"A", b"!", 2), b"=C3=A9t=C3=A9 soft=\r\nbreak", b"caf\xe9",
              b"begin 644 x\n#86)C\n`\nend\n", b"line\rbare\nend", b""]  # fmt: skip
    for _ in range(400):
        cte = rnd.choice(
            ["base64", "Base64", "quoted-printable", "7bit", "8bit", "x-uuencode", "binary", "bogus"]
        )
        charset = rnd.choice(["utf-8", "iso-8859-1", "idna", "hex", "x-unknown", '"utf-8"'])
        head = f"From: a@b.c\r\nContent-Type: text/plain; charset={charset}\r\n"
        yield f"{head}Content-Transfer-Encoding: {cte}\r\n\r\n".encode() + rnd.choice(bodies)


def test_split_parts_answer_as_plain_email_messages() -> None:
    sample = [m for m in stored() if b"boundary" in m[1].lower() and len(m[1]) < 200_000]
    raws = [raw for _, raw in stored() + generated()]
    raws += [raw for _, raw in damaged(sample + generated(), 800)]
    raws += list(odd_leaves())
    checked = 0
    for part in parts(iter(raws)):
        assert answers(part) == answers(plain_copy(part))
        checked += 1
    assert checked > 2000
