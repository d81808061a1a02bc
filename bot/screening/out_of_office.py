"""Out-of-office subjects, for autoresponders that set no header at all.

Only the subject's beginning is matched (after "Re:"-style prefixes are
left alone), because a patient may well mention an office or a reply.
"""

from __future__ import annotations

import re

from bot.message import ParsedMessage
from bot.screening import Rule

_SUBJECT = re.compile(
    r"^\W{0,3}(?:out\s+of\s+(?:the\s+)?office|automatic\s+reply|auto(?:matic)?[\s-]?reply\b|autoreply"
    r"|auto(?:matische)?\s*:|respuesta\s+autom[áa]tica|fuera\s+de\s+(?:la\s+)?oficina"
    r"|abwesenheitsnotiz|automatische\s+antwort|r[ée]ponse\s+automatique|absence\s+du\s+bureau"
    r"|risposta\s+automatica|fuori\s+sede|resposta\s+autom[áa]tica|fora\s+do\s+escrit[óo]rio"
    r"|ausente\s+de\s+la\s+oficina|(?:estoy\s+)?de\s+vacaciones\s*:|on\s+vacation\s*:)",
    re.IGNORECASE,
)
# Lotus Notes: "John Smith is out of the office."
_NOTES = re.compile(r"\bis\s+out\s+of\s+the\s+office\b", re.IGNORECASE)


def _check(msg: ParsedMessage) -> str | None:
    match = _SUBJECT.match(msg.subject) or _NOTES.search(msg.subject)
    return f"out-of-office subject: {match.group(0).strip(' :[(')}" if match else None


RULE = Rule("out-of-office-subject", "The subject is an out-of-office or automatic reply.", _check)
