"""``Precedence: bulk|junk|list|auto_reply``: the sender's own mark for mass or automatic mail."""

from __future__ import annotations

from bot.message import ParsedMessage
from bot.screening import Rule, shown

_MACHINE = frozenset({"bulk", "junk", "list", "auto_reply", "auto-reply"})


def _check(msg: ParsedMessage) -> str | None:
    value = msg.header("Precedence")
    if value is not None and value.strip().lower() in _MACHINE:
        return f"Precedence: {shown(value)}"
    return None


RULE = Rule(
    "precedence", "Precedence is bulk, junk, list or auto_reply.", _check, headers=frozenset({"precedence"})
)
