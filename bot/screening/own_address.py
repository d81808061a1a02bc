"""Our own mail coming back (a copy, a loop): answering it would talk to ourselves."""

from __future__ import annotations

from bot.message import ParsedMessage
from bot.screening import Rule


def rule(own_addresses: frozenset[str]) -> Rule:
    """The rule for these addresses (compared lower-cased)."""
    ours = frozenset(a.lower() for a in own_addresses)

    def check(msg: ParsedMessage) -> str | None:
        return "sent from our own address" if msg.from_address and msg.from_address in ours else None

    return Rule("own-address", "The sender is one of our own addresses.", check)
