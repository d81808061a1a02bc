"""Which lines a case-blind, line-start pattern of :mod:`bot.quoting` could match, told cheaply.

:mod:`bot.quoting` tries its footer, disclaimer and separator patterns on
nearly every line of a message, about 0.5 us a try, and nearly every line is
the person's prose, which none of them matches. Each pattern allows only
blanks (and a few marks such as ``-`` or ``*``) before its first word, so a
line can match only if it starts with one of :data:`LEADS` or its first
three characters spell the start of one of the pattern's words, in any case:
:func:`heads` lists every such spelling. A line outside both is passed over
without running the pattern. ``tests/test_linestarts.py`` checks, over every
Unicode character, that the case variants here are exactly those ``re``
matches case-blind, and that the blanks are exactly ``re``'s ``\\s``.
"""

from __future__ import annotations

from itertools import product

__all__ = ["DISCLAIMER_HEADS", "LEADS", "MOBILE_HEADS", "SEPARATOR_HEADS", "heads"]

# Every character str.isspace() (and so re's \s) accepts.
BLANKS = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"  # noqa: E501
# A line starting with one of these is always given to the patterns: blanks and marks may
# come before their words.
LEADS = frozenset(BLANKS + "-_=*>")
# Letters re's case-blind matching takes for another besides its upper and lower case:
# capital I with dot and dotless i for i, long s for s, the Kelvin sign for k, the
# Angstrom sign for å.
_ALSO = {"i": "\u0130\u0131", "s": "\u017f", "k": "\u212a", "\u00e5": "\u212b"}


def variants(char: str) -> str:
    """Every character that case-blind ``re`` matches for ``char``; a space stands for any blank."""
    if char == " ":
        return BLANKS
    return "".join(sorted({char, char.lower(), char.upper(), *_ALSO.get(char.lower(), "")}))


def heads(*starts: str) -> frozenset[str]:
    """Every three-character line start that reads as the first three characters of a start.

    ``starts`` are lower-case; a space in one stands for any blank (``la `` is
    "la" and a blank).
    """
    return frozenset("".join(p) for start in starts for p in product(*map(variants, start[:3])))


# How the words of bot.quoting's _MOBILE, _DISCLAIMER and _SEPARATOR begin (a space: any blank).
STARTS = {
    "mobile": ("sent", "enviado", "envoy", "inviato", "gesendet", "get", "obtener", "obtenga", "descargar",
               "tel", "t\u00e9l", "scarica", "von"),
    "disclaimer": ("confidential", "disclaimer", "legal", "privileged", "this", "the", "please", "aviso",
                   "cl\u00e1usula", "clausula", "este", "la ", "antes", "por"),
    "separator": ("original", "mensaje", "message", "urspr", "forwarded", "weitergeleitete", "begin",
                  "inicio", "in\u00edcio", "inizio", "d\u00e9but", "debut", "anfang"),
}  # fmt: skip
MOBILE_HEADS = heads(*STARTS["mobile"])
DISCLAIMER_HEADS = heads(*STARTS["disclaimer"])
SEPARATOR_HEADS = heads(*STARTS["separator"])
