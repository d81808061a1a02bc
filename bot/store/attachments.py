"""Attachments many replies share, stored once: a draft's bytes refer to them by digest.

Nearly every draft carries one to three of the same ten packets (~42 KB of
its ~46 KB). Writing them into every reply row made recording a backlog
mostly a matter of copying PDFs, and the database four times its size. A
draft written in bulk is therefore stored *packed*: each attachment part the
composer made (MIME headers and base64 body, byte for byte as in the
message) is replaced by a token naming its SHA-256, and the part itself is
kept once in the ``attachment`` table. :func:`expand` gives back exactly the
bytes that were packed, so ``Reply.raw`` is what will be sent, as before.

A packed value starts with :data:`MAGIC`, which no message can start with
(a NUL byte), and is made only from bytes without NUL, so every NUL in it
belongs to a token. Anything else is stored, and returned, as it is.
The table holds the organisation's own documents, never patient mail, so
the retention purge leaves it alone.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.store.models import Attachment

MAGIC = b"\0packed:1\0"
_TOKEN = re.compile(rb"\0attachment:([0-9a-f]{64})\0")
# Smaller parts are left in the message: a token and a lookup would save nothing.
MIN_PART = 2048

# Parts by digest, and digests by part: the same dozen parts recur in every batch. Bounded, in
# case templates and packets change many times in a long-running process.
_CACHE_SIZE = 64
_parts: OrderedDict[str, bytes] = OrderedDict()
_digests: OrderedDict[bytes, str] = OrderedDict()


def _remember(cache: OrderedDict, key: object, value: object) -> None:  # type: ignore[type-arg]
    cache[key] = value
    cache.move_to_end(key)
    if len(cache) > _CACHE_SIZE:
        cache.popitem(last=False)


def digest_of(part: bytes) -> str:
    """The SHA-256 (hex) of ``part``, remembered for the parts seen lately."""
    found = _digests.get(part)
    if found is None:
        found = hashlib.sha256(part).hexdigest()
        _remember(_digests, part, found)
    return found


def token(part: bytes) -> bytes:
    """What stands for ``part`` in a packed value."""
    return b"\0attachment:" + digest_of(part).encode("ascii") + b"\0"


def pack_chunks(chunks: Sequence[bytes], parts: Iterable[bytes]) -> bytes:
    """The packed value of the message ``b"".join(chunks)``, in which each of ``parts`` (large
    enough to be worth it) is one of the chunks, the same object; its parts are
    :func:`shared_parts`. Empty (store the message whole) when the message holds a NUL byte."""
    if any(b"\0" in c for c in chunks):
        return b""
    shared = {id(p) for p in parts if len(p) >= MIN_PART}
    return MAGIC + b"".join(token(c) if id(c) in shared else c for c in chunks)


def shared_parts(parts: Iterable[bytes]) -> dict[str, bytes]:
    """The parts :func:`pack_chunks` stood a token for, by digest (to :func:`save`)."""
    return {digest_of(p): p for p in parts if len(p) >= MIN_PART}


def save(session: Session, parts: Mapping[str, bytes]) -> None:
    """Store the ``parts`` (by digest) the database does not have yet, in ``session``'s transaction."""
    if not parts:
        return
    have = set(session.scalars(select(Attachment.digest).where(Attachment.digest.in_(list(parts)))))
    session.add_all(Attachment(digest=d, data=p) for d, p in parts.items() if d not in have)
    for digest, part in parts.items():
        _remember(_parts, digest, part)


def expand(stored: bytes, session: Session | None) -> bytes:
    """The whole message for a stored value (packed or not).

    Raises ``LookupError`` when a part it refers to is neither remembered
    nor in the database ``session`` reads (or there is no session).
    """
    if not stored.startswith(MAGIC):
        return stored
    body = stored[len(MAGIC) :]
    wanted = {m.decode("ascii") for m in _TOKEN.findall(body)}
    found = {d: p for d in wanted if (p := _parts.get(d)) is not None}
    if missing := [d for d in wanted if d not in found]:
        if session is None:
            raise LookupError("a packed reply needs a database session to read its attachments")
        rows = session.execute(
            select(Attachment.digest, Attachment.data).where(Attachment.digest.in_(missing))
        )
        for digest, data in rows:
            found[digest] = data
            _remember(_parts, digest, data)
        if absent := [d for d in missing if d not in found]:
            raise LookupError(f"attachment {absent[0]} of a stored reply is missing")
    return _TOKEN.sub(lambda m: found[m.group(1).decode("ascii")], body)
