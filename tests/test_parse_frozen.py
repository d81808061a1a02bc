"""Today's parse stage gives exactly what it gave before it was made cheaper.

``tests/parse_reference`` is the parse stage frozen at 5524a7a (its email
package path, with the header, MIME, charset, HTML and quoting modules it
read through). :func:`bot.parse.parse_message` must agree with it on every
field (attachment bytes included), or raise the same ParseError, for every
stored message, the shared corpora, generated inquiries and damaged copies.
tests/test_parse_fast.py compares today's fast and reference paths.
"""

from __future__ import annotations

from tests.parse_reference.parse import parse_message_reference as frozen
from tests.test_parse_fast import damaged, differences, generated, stored


def test_every_stored_message_parses_as_before() -> None:
    messages = stored()
    assert len(messages) > 1500, "the shared corpora must sit beside the checkout"
    assert differences(iter(messages), frozen) == []


def test_generated_inquiries_parse_as_before() -> None:
    assert differences(iter(generated()), frozen) == []


def test_damaged_mail_parses_as_before() -> None:
    sample = [m for m in stored() if b"boundary" in m[1].lower() and len(m[1]) < 200_000]
    assert differences(damaged(sample + generated(), 800), frozen) == []
