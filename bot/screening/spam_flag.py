"""``X-Spam-Flag: YES`` is noted, never a reason to ignore.

A spam filter's guess is often wrong about a worried family writing from a
new address with a pasted article in it; a false ignore means a patient is
never answered, while every reply waits for a person's approval anyway. So
the flag is shown to staff and the message goes on.
"""

from __future__ import annotations

from bot.message import ParsedMessage
from bot.screening import Rule


def _check(msg: ParsedMessage) -> str | None:
    value = msg.header("X-Spam-Flag")
    if value is not None and value.strip().lower() in ("yes", "true"):
        return "X-Spam-Flag: YES (noted only: a filter's guess never silences an inquiry)"
    return None


RULE = Rule(
    "spam-flag",
    "X-Spam-Flag is YES: noted for staff, not ignored.",
    _check,
    ignores=False,
    headers=frozenset({"x-spam-flag"}),
)
