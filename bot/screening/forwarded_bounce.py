"""A bounce forwarded on with no words of the sender's own.

Someone who forwards a bounce and asks something is a person with a
question, and is answered; a bare forward of a delivery report (what a
mail rule or a misdirected "forward all" sends) has nothing to answer.
"""

from __future__ import annotations

import re

from bot.message import ParsedMessage
from bot.screening import Rule
from bot.screening.bounce_subject import FORWARD, subject_match

# Fields of an RFC 3464 report, and the words of classic sendmail/Postfix bounces.
_REPORT = re.compile(
    r"^[>\s]*(?:final-recipient|diagnostic-code|reporting-mta|action:\s*failed|status:\s*[45]\.\d)"
    r"|following\s+addresses\s+had\s+permanent\s+fatal\s+errors|could\s+not\s+be\s+delivered",
    re.IGNORECASE | re.MULTILINE,
)
_MAX_WORDS = 5  # "Forward the message." is not a question; "why did this bounce?" has a few more


def _check(msg: ParsedMessage) -> str | None:
    if not (FORWARD.match(msg.subject) and subject_match(msg.subject)):
        return None
    words = len(msg.new_text.split())
    if words < _MAX_WORDS and len(_REPORT.findall(msg.quoted_text)) >= 2:
        return f"a forwarded bounce with {words} words of the sender's own"
    return None


RULE = Rule("forwarded-bounce", "A forwarded delivery report with no question of the sender's own.", _check)
