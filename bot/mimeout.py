"""Writing a reply's MIME bytes, with each packet's part made and serialised once and shared."""

from __future__ import annotations

from email.generator import BytesGenerator
from email.message import EmailMessage
from email.policy import SMTP
from io import BytesIO
from typing import Any

# A packet's MIME part (headers and base64 body) is made once per file and shared
# by every reply that attaches it: parts are never changed once made, and
# encoding a PDF again for every reply cost ~1 ms of the ~5 ms a reply takes.
# Its serialised bytes are kept on it too (``_flattened``): writing ~700 base64
# lines per packet through email's generator was the largest part of the rest.
_PARTS: dict[tuple[str, bytes], EmailMessage] = {}
_MAX_PARTS = 64  # packets are few; rebuilt ones get new bytes, so the old ones are let go


def attachment_part(filename: str, data: bytes) -> EmailMessage:
    key = (filename, data)
    part = _PARTS.get(key)
    if part is None:
        part = EmailMessage()
        part.set_content(data, maintype="application", subtype="pdf", filename=filename)
        part._flattened = {}  # type: ignore[attr-defined]
        if len(_PARTS) >= _MAX_PARTS:
            _PARTS.clear()
        _PARTS[key] = part
    return part


class _Generator(BytesGenerator):
    """email's BytesGenerator, writing a shared packet part from the bytes it gave the first time.

    The bytes of a part depend only on the part and the generator's settings,
    which are the key; anything else is generated as usual.
    """

    def flatten(self, msg: Any, unixfrom: bool = False, linesep: str | None = None) -> None:
        cache = getattr(msg, "_flattened", None)
        if cache is None or unixfrom:
            super().flatten(msg, unixfrom, linesep)
            return
        key = (repr(self.policy), linesep, self._mangle_from_, self.maxheaderlen)
        data = cache.get(key)
        if data is None:
            buffer = BytesIO()
            BytesGenerator(buffer, self._mangle_from_, self.maxheaderlen, policy=self.policy).flatten(
                msg, unixfrom, linesep
            )
            data = cache[key] = buffer.getvalue()
        self._fp.write(data)


def as_bytes(msg: EmailMessage) -> bytes:
    """``msg.as_bytes(policy=SMTP)``, with shared packet parts written from their cached bytes."""
    buffer = BytesIO()
    _Generator(buffer, mangle_from_=False, policy=SMTP).flatten(msg)
    return buffer.getvalue()
