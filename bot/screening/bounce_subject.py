"""Bounce subjects, when the sender or the words also look like a mail system.

The subject alone is not enough: a person may forward a bounce and ask for
help ("Fwd: Undelivered Mail Returned to Sender"). So the rule also needs a
sender that looks like a mail server (or none at all), or, when the
subject is not a forward, a body that reads like a delivery report.
"""

from __future__ import annotations

import re
from re import _constants as C  # the parser's opcodes (Python 3.11+)
from re import _parser as sre_parse

from bot.message import ParsedMessage
from bot.screening import Rule
from bot.screening.machine_sender import MACHINE_LOCAL_PART

SUBJECT = re.compile(
    r"undeliver(?:ed|able)|returned\s+mail|return(?:ed)?\s+to\s+sender|delivery\s+status\s+notification"
    r"|delivery\s+(?:failure|failed|has\s+failed|problem|notification|warning|error)"
    r"|mail\s+delivery\s+(?:failed|failure|system|warning|error|problem)|failure\s+notice|non[- ]?delivery"
    r"|could\s+not\s+be\s+delivered|nondeliverable|message\s+not\s+delivered"
    r"|mail\s+system\s+error|bounced?\s+(?:mail|message|notification)|rejected\s+message"
    r"|no\s+se\s+(?:puede|pudo)\s+entregar|no\s+entregado|non\s+remis|unzustellbar|non\s+recapitabile"
    r"|n[ãa]o\s+(?:[ée]\s+poss[íi]vel\s+)?entreg|postmaster\s+notify|warning:\s+could\s+not\s+send",
    re.IGNORECASE,
)
_SYSTEM_NAME = re.compile(
    r"mail\s*delivery|mailer|post\s*master|mail\s*(?:system|server|administrator|admin)|daemon"
    r"|system\s+administrator|delivery\s+(?:subsystem|system|notification)|microsoft\s+outlook"
    r"|administrador\s+del\s+sistema|sistema\s+de\s+correo",
    re.IGNORECASE,
)
# Words in a local part that name a mail server, a gateway or a filter, not a person.
_SYSTEM_WORDS = frozenset(
    {"mailer", "daemon", "postmaster", "smtp", "mta", "ndr", "bounce", "bounces", "imss", "antivirus",
     "gateway", "gateways", "mailadmin", "administrator", "root", "mdaemon", "mailerdaemon", "exchange",
     "maildelivery", "mail", "delivery", "notify", "notification", "notifications"}
)  # fmt: skip
_REPORT_WORDS = re.compile(
    r"could\s*n[o']t\s+be\s+delivered|not\s+be\s+delivered|undeliverable|delivery\s+(?:has\s+)?failed"
    r"|permanent\s+(?:fatal\s+)?error|user\s+unknown|unknown\s+user|mailbox\s+(?:unavailable|is\s+full|full)"
    r"|n'a\s+pas\s+pu\s+[êe]tre\s+(?:d[ée]livr|remis)|no\s+se\s+(?:ha\s+)?(?:pudo|podido)\s+entregar",
    re.IGNORECASE,
)
FORWARD = re.compile(r"^\s*(?:fwd?|rv|tr|wg|enc|i|doorst)\s*:", re.IGNORECASE)


def _literal_letters(regex: re.Pattern[str]) -> frozenset[str] | None:
    """Per alternative of ``regex``, its longest run of ASCII letters written as such, lower-cased:
    every match contains one of them (up to case). None when an alternative has no such run."""
    items = list(sre_parse.parse(regex.pattern, regex.flags))
    alternatives = items[0][1][1] if len(items) == 1 and items[0][0] is C.BRANCH else [items]
    found = set()
    for alternative in alternatives:
        best = run = ""
        for op, av in alternative:
            run = run + chr(av) if op is C.LITERAL and chr(av).isascii() and chr(av).isalpha() else ""
            best = max(best, run, key=len)
        if not best:
            return None
        found.add(best.lower())
    # A run that holds another run is found whenever it is there by looking for the other.
    return frozenset(s for s in found if not any(other in s for other in found - {s}))


# The regex tries ~30 alternatives, ignoring case, at every character (~2,000 instructions a
# character); a plain subject that has none of their letters cannot match, and is not searched.
_LETTERS = _literal_letters(SUBJECT)


def subject_match(subject: str) -> re.Match[str] | None:
    """``SUBJECT.search(subject)``."""
    if _LETTERS is not None and subject.isascii():
        lowered = subject.lower()  # ASCII: ignoring case is comparing lower-cased
        if not any(map(lowered.__contains__, _LETTERS)):
            return None
    return SUBJECT.search(subject)


def looks_like_mail_system(msg: ParsedMessage) -> bool:
    """True when the sender is missing, or named or addressed like a mail server."""
    local = msg.from_address.split("@", 1)[0]
    if not local:
        return True
    words = set(re.split(r"[-_.+]", local.lower()))
    named = _SYSTEM_NAME.search(msg.from_name)
    return bool(MACHINE_LOCAL_PART.match(local) or words & _SYSTEM_WORDS or named)


def _check(msg: ParsedMessage) -> str | None:
    match = subject_match(msg.subject)
    if not match:
        return None
    if looks_like_mail_system(msg):
        return f"bounce subject ({match.group(0)}) from a mail system"
    if not FORWARD.match(msg.subject) and _REPORT_WORDS.search(msg.new_text):
        return f"bounce subject ({match.group(0)}) and a delivery report"
    return None


RULE = Rule("bounce-subject", "A bounce subject sent by a mail system or over a delivery report.", _check)
