"""Senders whose name says no person reads them: MAILER-DAEMON, postmaster, noreply ..."""

from __future__ import annotations

import re

from bot.message import ParsedMessage
from bot.screening import Rule

# The local part, alone or with a suffix ("noreply-alerts", "no-reply+123").
MACHINE_LOCAL_PART = re.compile(
    r"^(?:mailer[-_]?daemon|mail[-_]?daemon|post[-_]?master|no[-_]?reply|do[-_]?not[-_]?reply)"
    r"(?:[-+._].*)?$",
    re.IGNORECASE,
)


def _check(msg: ParsedMessage) -> str | None:
    local = msg.from_address.split("@", 1)[0]
    if local and MACHINE_LOCAL_PART.match(local):
        return f"sent from {local.lower()}"
    return None


RULE = Rule("machine-sender", "The sender is MAILER-DAEMON, postmaster, noreply or do-not-reply.", _check)
