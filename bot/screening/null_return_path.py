"""An empty envelope sender (``Return-Path: <>``) is what bounces and autoreplies are sent with."""

from __future__ import annotations

from bot.message import ParsedMessage
from bot.screening import Rule


def _check(msg: ParsedMessage) -> str | None:
    value = msg.header("Return-Path")
    if value is not None and value.replace(" ", "") in ("<>", ""):
        return "Return-Path: <>"
    return None


RULE = Rule(
    "null-return-path",
    "The envelope sender is empty (Return-Path: <>).",
    _check,
    headers=frozenset({"return-path"}),
)
