"""Feedback-loop complaints in the pre-ARF form (Hotmail/Outlook.com JMRP).

ARF reports are multipart/report and caught by the delivery-report rule;
the older form is multipart/mixed with the complained-of message attached
and a subject no person writes: "complaint about message from 192.0.2.1".
"""

from __future__ import annotations

import re

from bot.message import ParsedMessage
from bot.screening import Rule

_SUBJECT = re.compile(r"^\s*complaint\s+about\s+message\s+from\s+[0-9a-f.:]+\s*$", re.IGNORECASE)


def _check(msg: ParsedMessage) -> str | None:
    attached = any(a.content_type == "message/rfc822" for a in msg.attachments)
    return "a spam complaint report" if attached and _SUBJECT.match(msg.subject) else None


RULE = Rule("complaint-report", "A mailbox provider's spam-complaint report about a message.", _check)
