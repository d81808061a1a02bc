"""Exim and others mark bounces with ``X-Failed-Recipients``."""

from __future__ import annotations

from bot.message import ParsedMessage
from bot.screening import Rule


def _check(msg: ParsedMessage) -> str | None:
    # The value is the failed addresses: say only that it is there.
    return "X-Failed-Recipients header present" if msg.header("X-Failed-Recipients") is not None else None


RULE = Rule(
    "failed-recipients",
    "X-Failed-Recipients is present: a bounce.",
    _check,
    headers=frozenset({"x-failed-recipients"}),
)
