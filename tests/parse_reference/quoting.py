"""Separate what a person wrote now from what they quoted, signed or were footered with.

The one public entry is :func:`split_quoted`. Replies carry the earlier
conversation below an attribution line ("On ... wrote:", "El ... escribió:"),
an Outlook header block ("From: ... Sent: ..."), a separator
("-----Original Message-----") or as ``>`` lines; below the new words come
signatures, "Sent from my iPhone" footers and legal disclaimers. Only the new
words should be matched against the reply topics, or our own earlier answer,
quoted back, would match every topic again.

The split is conservative, because a lost question is worse than a noisy
one: boilerplate (signatures, footers, disclaimers) is only cut *below* some
words, never at the top; attribution lines need a digit or an address, so
"On Monday my doctor wrote:" is kept; and a message with no quote and no
boilerplate always comes back whole.
"""

from __future__ import annotations

import re

__all__ = ["split_quoted"]

_VERB = r"(?:wrote|escribi[óo]|a\s+[ée]crit|escreveu|ha\s+scritto|schreef|skrev|napisa[łl])"
_STARTER = r"(?:On|El|Le|Em|Il|Op|Den|Dnia|W\s+dniu|Am)\b"
# "On <date>, <name> wrote:" in the languages we see; the German form puts the
# name after the verb ("Am <date> schrieb <name>:").
_ATTRIBUTION = re.compile(
    rf"^\s*(?:{_STARTER}.{{0,300}}?{_VERB}\s*:|Am\b.{{0,300}}?\bschrieb\b.{{0,300}}:)\s*$",
    re.IGNORECASE,
)
# Some clients (Yahoo, newer Gmail) omit the date: "Ana Perez <ana@x.com> wrote:".
_BARE_ATTRIBUTION = re.compile(rf"^\s*\S.{{0,200}}@.{{0,100}}{_VERB}\s*:\s*$", re.IGNORECASE)
_SEPARATOR = re.compile(
    r"^\s*[-_=*>\s]*(?:original\s+message|mensaje\s+original|message\s+d'origine"
    r"|urspr[üu]ngliche\s+nachricht|mensagem\s+original|messaggio\s+originale"
    r"|forwarded\s+message|mensaje\s+reenviado|message\s+transf[ée]r[ée]"
    r"|weitergeleitete\s+nachricht|mensagem\s+encaminhada|messaggio\s+inoltrato"
    r"|begin\s+forwarded\s+message|inicio\s+del\s+mensaje\s+reenviado"
    r"|d[ée]but\s+du\s+message\s+r[ée]exp[ée]di[ée]|anfang\s+der\s+weitergeleiteten\s+nachricht"
    r"|in[íi]cio\s+da\s+mensagem\s+reencaminhada|inizio\s+messaggio\s+inoltrato)\s*[-_=*:\s]*$",
    re.IGNORECASE,
)
_FROM_FIELD = re.compile(r"^\s*[*_]*(?:From|De|Von|Da|Van|Från|Od)[*_]*\s*:[*_]*\s*\S", re.IGNORECASE)
_NEXT_FIELD = re.compile(
    r"^\s*[*_]*(?:Sent|Date|To|Subject|Cc|Enviado|Enviada|Fecha|Para|Asunto|Gesendet|Datum|An|Betreff"
    r"|Envoy[ée]|[ÀA]|Objet|Data|Inviato|Oggetto|Assunto)[*_]*\s*:",
    re.IGNORECASE,
)
_ONE_LINE_HEADERS = re.compile(
    r"^\s*[*_]*(?:From|De|Von)[*_]*\s*:.{1,200}\b(?:Sent|Enviado|Gesendet|Envoy[ée])[*_]*\s*:", re.IGNORECASE
)
_RULE = re.compile(r"^\s*[-_]{10,}\s*$")
_QUOTED = re.compile(r"^\s{0,3}>(?:[\s>]|$)")
_SIGNATURE = re.compile(r"^--\s?$")
_MOBILE = re.compile(
    r"^\s*(?:(?:sent|enviado|envoy[ée]|inviato|gesendet)\s+(?:from|desde|de|do|da|von)\s+(?:my|mi|mon|meu|il\s+mio|meinem|mio)?\s*"
    r"(?:i(?:phone|pad)|android|samsung|galaxy|huawei|xiaomi|blackberry|mobile|m[óo]vil|celular|smartphone"
    r"|t[ée]l[ée]phone|handy|tel[ée]fono|telemóvel|outlook|yahoo|aol|mail\s+for\s+windows|correo\s+para\s+windows"
    r"|verizon|t-mobile|at&t|lg|motorola|sony|pixel|xperia)\b.{0,80}"
    r"|(?:get|obtener|obtenga|descargar|t[ée]l[ée]charger|scarica)\s+outlook\s+(?:for|para|pour|per)\s+\w+.{0,80}"
    r"|(?:von\s+meinem|inviato\s+da)\s+\S+.{0,60}|enviado\s+do\s+meu\s+\S+.{0,60})$",
    re.IGNORECASE,
)
_DISCLAIMER = re.compile(
    r"^\s*[*_]*(?:confidentiality\s+notice|confidential(?:ity)?\s*:|disclaimer\s*:|legal\s+notice"
    r"|privileged\s*(?:&|and)\s*confidential"
    r"|this\s+(?:e-?mail|message|communication|transmission)\b.{0,120}?\b(?:is|are|may\s+be|may\s+contain"
    r"|contains?)\s+(?:\w+\s+){0,2}(?:confidential|privileged|legally)"
    r"|the\s+information\s+(?:contained\s+)?in\s+this\s+(?:e-?mail|message|communication)"
    r"|please\s+consider\s+the\s+environment\s+before\s+printing"
    r"|aviso\s+(?:de\s+confidencialidad|legal|de\s+privacidad)|confidencialidad\s*:"
    r"|cl[áa]usula\s+de\s+confidencialidad"
    r"|este\s+(?:correo|mensaje|e-?mail)\b.{0,120}?\b(?:es|son|contiene|puede\s+contener|va\s+dirigido)"
    r"\s+(?:\w+\s+){0,2}(?:confidencial|privilegiad|reservad|exclusivamente|informaci[óo]n)"
    r"|la\s+informaci[óo]n\s+contenida\s+en\s+este\s+(?:correo|mensaje|e-?mail)"
    r"|antes\s+de\s+imprimir\s+este|por\s+favor,?\s+(?:piense|considere)\s+en\s+el\s+medio\s+ambiente)",
    re.IGNORECASE,
)
_BLANK_RUN = re.compile(r"\n{3,}")
_MAX_SCAN = 5000  # lines searched for the start of a quote
_MAX_JOIN = 3  # Gmail wraps a long attribution over up to three lines
_MAX_SIGNATURE = 12  # lines a "-- " signature may have
_MAX_DEPTH = 3  # how many times a bottom-posted reply is looked for under a quote


def _quote_follows(lines: list[str], after: int) -> bool:
    nxt = next((ln for ln in lines[after : after + 3] if ln.strip()), "")
    return bool(_QUOTED.match(nxt))


def _is_attribution(lines: list[str], i: int) -> int:
    """How many lines the attribution starting at ``i`` spans (0 when none)."""
    line = lines[i]
    if not line.strip() or len(line) > 400:
        return 0
    for span in range(1, _MAX_JOIN + 1):
        if i + span > len(lines):
            break
        joined = " ".join(part.strip() for part in lines[i : i + span])
        pattern = _ATTRIBUTION if span > 1 or not _BARE_ATTRIBUTION.match(joined) else _BARE_ATTRIBUTION
        # A date or an address must be there: "On Monday my doctor wrote:" is the person's own text.
        if pattern.match(joined) and re.search(r"[0-9@]", joined):
            return span
        # In any language: an address, a colon at the end, and a quote right below.
        if span < _MAX_JOIN and "@" in joined and joined.endswith(":") and _quote_follows(lines, i + span):
            return span
        if span > 1 and not lines[i + span - 1].strip():
            break
    return 0


def _header_block(lines: list[str], i: int) -> tuple[int, int] | None:
    """(first line, line after) of an Outlook-style header block at ``i``, with its rule line.

    The block is "From:" and two more fields in the next four lines; or, in
    any order (Hotmail puts Date first), three fields including "From:".
    """
    if _ONE_LINE_HEADERS.match(lines[i]):
        return i, i + 1
    if not (_FROM_FIELD.match(lines[i]) or _NEXT_FIELD.match(lines[i])):
        return None
    block = [lines[i], *[ln for ln in lines[i + 1 : i + 6] if ln.strip()][:3]]
    fields = sum(bool(_FROM_FIELD.match(ln) or _NEXT_FIELD.match(ln)) for ln in block)
    if fields < 3 or not any(_FROM_FIELD.match(ln) for ln in block):
        return None
    end = i + 1
    while end < len(lines) and end < i + 10 and lines[end].strip():
        end += 1
    before = i - 1
    while before >= 0 and not lines[before].strip():
        before -= 1
    return (before if before >= 0 and _RULE.match(lines[before]) else i), end


def _quote_cut(lines: list[str]) -> tuple[int, int]:
    """(first line of the earliest quote marker, first line after it); (len, len) when none."""
    # Nobody writes thousands of lines above a quote; hostile text must not cost minutes.
    # Every marker has words and every header block a colon; an attribution (of up to
    # _MAX_JOIN lines) ends with one: other lines are passed over without those patterns.
    attribution_starts: set[int] = set()
    for j, line in enumerate(lines[: _MAX_SCAN + _MAX_JOIN]):
        if ":" in line and line.rstrip().endswith(":"):
            attribution_starts.update(range(j - _MAX_JOIN + 1, j + 1))
    for i, line in enumerate(lines[:_MAX_SCAN]):
        if not line or line.isspace() or (">" in line and _QUOTED.match(line)):
            continue
        if len(line) < 120 and _SEPARATOR.match(line):
            return i, i + 1
        if ":" in line:
            block = _header_block(lines, i)
            if block:
                return block
        if i in attribution_starts:
            span = _is_attribution(lines, i)
            if span:
                return i, i + span
    return len(lines), len(lines)


def _is_quoted(line: str) -> bool:
    return ">" in line and _QUOTED.match(line) is not None


def _boilerplate_cut(lines: list[str]) -> int:
    """The first signature, mobile footer or disclaimer line that has words above it."""
    # Lines from last_question on have a question at or below them.
    last_question = -1
    for i in range(len(lines) - 1, -1, -1):
        if "?" in lines[i] or "¿" in lines[i]:
            last_question = i
            break
    seen_words = False
    for i, line in enumerate(lines):
        if not line or line.isspace():
            continue  # no footer is blank
        if not seen_words:
            seen_words = True
            continue
        if _MOBILE.match(line):
            return i
        # "--" may also be a writer's divider, and "Confidential:" a writer's warning: only a
        # tail with no question in it is a signature or a disclaimer.
        if i <= last_question:
            continue
        if line.startswith("--") and _SIGNATURE.match(line) and _words(lines, i + 1) <= _MAX_SIGNATURE:
            return i
        if len(line) < 2000 and _DISCLAIMER.match(line):
            return i
    return len(lines)


def _words(lines: list[str], start: int) -> int:
    """How many lines from ``start`` on have words (no more than needed to exceed a signature)."""
    count = 0
    for line in lines[start:]:
        if line and not line.isspace():
            count += 1
            if count > _MAX_SIGNATURE:
                break
    return count


def _strip_blank(text: str) -> str:
    if "\n\n\n" in text:
        text = _BLANK_RUN.sub("\n\n", text)
    return text.strip("\n").rstrip()


def _split(lines: list[str], index: list[int], depth: int) -> list[int]:
    """The positions (from ``index``) of the lines that are new text."""
    start, after = _quote_cut(lines)
    head = [(i, ln) for i, ln in zip(index[:start], lines[:start], strict=True) if not _is_quoted(ln)]
    cut = _boilerplate_cut([ln for _, ln in head])
    new = head[:cut]
    if any(ln.strip() for _, ln in new) or depth >= _MAX_DEPTH or start == len(lines):
        return [i for i, _ in new]
    # Nothing above the quote: a bottom-posted reply, or a forward with no
    # comment. Look for the person's words under the quote instead.
    rest = [(i, ln) for i, ln in zip(index[after:], lines[after:], strict=True) if not _is_quoted(ln)]
    return _split([ln for _, ln in rest], [i for i, _ in rest], depth + 1)


def split_quoted(text: str) -> tuple[str, str]:
    """Split ``text`` into (new_text, quoted_text).

    ``new_text`` is what the person wrote in this message: above the first
    attribution line, Outlook header block or forward separator, without
    ``>`` lines, and above the first signature, mobile footer or disclaimer.
    When nothing is above the quote, the words below it are taken (a
    bottom-posted reply). ``quoted_text`` is every other line, in order.
    Both are stripped of surrounding blank lines. A text with no quote and
    no boilerplate below words comes back whole as ``new_text``.
    """
    if not text.strip():
        return "", ""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    new = set(_split(lines, list(range(len(lines))), 0))
    if len(new) == len(lines):  # no quote and no boilerplate: the whole text is new
        return _strip_blank("\n".join(lines)), ""
    new_text = "\n".join(ln for i, ln in enumerate(lines) if i in new)
    quoted_text = "\n".join(ln for i, ln in enumerate(lines) if i not in new)
    return _strip_blank(new_text), _strip_blank(quoted_text)
