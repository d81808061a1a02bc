"""What the parse stage raises, and how it loads bytes into the email package (shared by its modules)."""

from __future__ import annotations

import email
import email.policy
from email.message import Message

POLICY = email.policy.default

MAX_DEPTH = 30  # nested multiparts and forwards; real mail stays far below


class ParseError(Exception):
    """Mail that cannot be handled at all; ``reason`` says why in plain words."""

    def __init__(self, reason: str = "", stage: str = "parse") -> None:
        super().__init__(reason)
        self.stage = stage
        self.reason = reason


def load_message(raw: bytes) -> Message:
    try:
        return email.message_from_bytes(raw, policy=POLICY)
    except RecursionError:
        raise ParseError("MIME parts nest too deeply to parse") from None
