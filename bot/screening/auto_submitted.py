"""RFC 3834: ``Auto-Submitted`` with any value but ``no`` marks machine-sent mail."""

from __future__ import annotations

from bot.message import ParsedMessage
from bot.screening import Rule, shown


def _check(msg: ParsedMessage) -> str | None:
    value = msg.header("Auto-Submitted")
    if value is None:
        return None
    # The keyword may carry parameters: "auto-generated (postmaster-notification)".
    keyword = value.split(";")[0].split("(")[0].strip().lower()
    if keyword in ("", "no"):
        return None
    return f"Auto-Submitted: {shown(value)}"


RULE = Rule(
    "auto-submitted",
    "The Auto-Submitted header says a program sent it (RFC 3834).",
    _check,
    headers=frozenset({"auto-submitted"}),
)
