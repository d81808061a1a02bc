"""Screening rules: each tells whether a message was sent by a machine.

A rule is a tiny value with a ``name``, a ``description`` for staff, and a
``check`` that returns a short plain-words detail when the rule fires (or
None). ``ignores`` is false for rules that only note something. A rule
that reads nothing but certain headers names them (``headers``, lower-cased,
and ``header_prefixes``): it can fire only on a message that has one, so
screening does not run it on one that has none (most inquiries have no
machine markers at all). One module
per rule, each exposing ``RULE`` (Mailman's ``mailman/rules`` layout); the
order they run in is data, in :mod:`bot.screen`.

Details are read by staff: they name headers and matched words, never the
body and never an address.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from operator import methodcaller

from bot.message import ParsedMessage

__all__ = ["Rule", "shown"]


@dataclass(frozen=True)
class Rule:
    """One screening rule; ``check(msg)`` returns why it fired, or None."""

    name: str
    description: str
    check: Callable[[ParsedMessage], str | None]
    ignores: bool = True
    headers: frozenset[str] | None = None  # None: the rule reads more than headers, and always runs
    header_prefixes: tuple[str, ...] = ()

    def may_fire(self, names: frozenset[str]) -> bool:
        """Whether the rule can fire on a message whose lower-cased header names are ``names``."""
        if self.headers is None or not self.headers.isdisjoint(names):
            return True
        return bool(self.header_prefixes) and any(
            map(methodcaller("startswith", self.header_prefixes), names)
        )


def shown(value: str, limit: int = 60) -> str:
    """A header value fit for a reason: one line, short, and no address in it."""
    value = " ".join(value.split())
    if "@" in value:
        return "(an address)"
    return value if len(value) <= limit else value[: limit - 1] + "…"
