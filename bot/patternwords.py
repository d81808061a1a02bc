"""The words a regex pattern needs: a cheap test that lets matching skip patterns that cannot match.

Contract of :func:`needed_words`: for a pattern run with ``finditer`` on
folded text (:mod:`bot.textnorm`), it returns a list of *needs*, each a
:data:`Need` ``(words, heads, pieces)``. Whenever the pattern matches
anywhere in a text, every need holds for that text: one of ``words`` is one
of the text's tokens (whole ``[a-z0-9]`` runs), or one of ``heads`` is the
first three letters of one of its tokens, or one of ``pieces`` occurs in
the text as a substring. An empty list means nothing could be derived and
the pattern must always run. The needs only ever skip a pattern whose run
would have found nothing, so results are the same as running every
pattern on every message.

How: the pattern is parsed with the standard library's own parser and
every literal stretch a match must contain is collected. Letters and digits
in such a stretch lie inside one token of the text (tokens are maximal
``[a-z0-9]`` runs); a run of them with a boundary before it (another
character, ``\\b``, ``\\s+``, ``\\W+``) starts a token, and one bounded on
both sides is a whole token: set lookups instead of scans of the text.
Anything the analysis does not know (case-insensitive flags,
back-references) gives no need, never a wrong one.
"""

from __future__ import annotations

from itertools import product
from re import _constants as C  # the parser's opcodes (Python 3.11+)
from re import _parser as sre_parse

from bot.regexparts import (
    ALNUM,
    LIMIT,
    REPEATS,
    Unsupported,
    check_flags,
    exact,
    exact_seq,
    is_separator,
)
from bot.tokenized import HEAD

__all__ = ["Need", "cost", "needed_words"]

# (words, heads, pieces): a token is one of words, or starts with one of heads, or a piece is in the text.
Need = tuple[frozenset[str], frozenset[str], frozenset[str]]


def _condition(s: str, left: bool, right: bool) -> tuple[int, str] | None:
    """What one expanded stretch needs: (0, word), (1, head) or (2, piece); None if nothing."""
    best: tuple[int, int, str] | None = None
    for m in ALNUM.finditer(s):
        run = m.group()
        starts = m.start() > 0 or left
        if starts and (m.end() < len(s) or right):
            cand = (0, -len(run), run)
        elif starts and len(run) >= HEAD:
            cand = (1, -len(run), run[:HEAD])
        else:
            cand = (2, -len(run), run)
        best = cand if best is None else min(best, cand)
    return None if best is None else (best[0], best[2])


def _whole_words(s: str, left: bool, right: bool) -> set[str]:
    return {m.group() for m in ALNUM.finditer(s) if (m.start() > 0 or left) and (m.end() < len(s) or right)}


def _need(conds: set[tuple[int, str]]) -> Need:
    return tuple(frozenset(w for k, w in conds if k == kind) for kind in (0, 1, 2))  # type: ignore[return-value]


def _stretch_needs(run: list[set[str]], left: bool, right: bool) -> list[Need]:
    """One need per word every expansion of the stretch has, and one for "one of them"."""
    strings = ["".join(parts) for parts in product(*run)]
    common = set.intersection(*(_whole_words(s, left, right) for s in strings))
    needs = [_need({(0, w)}) for w in sorted(common)]
    conds = {_condition(s, left, right) for s in strings}
    if None not in conds:
        needs.append(_need(conds))  # type: ignore[arg-type]
    return needs


def _apart(strings: set[str], at: int) -> bool:
    """Whether every string has a non-letter, non-digit character (or a \\b) at index ``at`` (0 or -1)."""
    return all(s and not ALNUM.match(s[at]) for s in strings)


def _begins_apart(item: tuple) -> bool:
    """Whether a match of ``item`` starts with a character that is not a letter or digit, or a \\b."""
    if is_separator(item):
        return True
    x = exact(item)
    return x is not None and _apart(x, 0)


def _seq_needs(seq: list, left: bool = False, right: bool = False) -> list[Need]:
    """Needs of a sequence: its literal stretches, and the needs of the parts it cannot skip.

    ``left``/``right``: the character before/after the sequence's match is
    not a letter or digit (or there is none).
    """
    needs: list[Need] = []
    run: list[set[str]] = []
    size = 1

    def close(right: bool) -> None:
        if run:
            needs.extend(_stretch_needs(run, left, right))
        run.clear()

    for k, item in enumerate(seq):
        x = exact(item)
        if x is not None and size * len(x) <= LIMIT:
            run.append(x)
            size *= len(x)
            continue
        sub = exact_seq(item[1][2]) if item[0] in REPEATS and item[1][0] >= 1 else None
        if sub is not None and size * len(sub) <= LIMIT:  # x+: the stretch goes on into one x
            run.append(sub)
            close(right=False)
            size, left = 1, False
            continue
        sep = is_separator(item)
        item_left = _apart(run[-1], -1) if run else left
        close(right=sep)
        size, left = 1, sep
        if x is not None:  # too many strings to join the stretch: start a new one with it
            run.append(x)
            size = len(x)
        elif not sep:
            item_right = right if k + 1 == len(seq) else _begins_apart(seq[k + 1])
            needs.extend(_item_needs(item, item_left, item_right))
    close(right=right)
    return needs


def _item_needs(item: tuple, left: bool, right: bool) -> list[Need]:
    op, av = item
    if op is C.SUBPATTERN:
        check_flags(av[1])
        return _seq_needs(av[3], left, right)
    if op is C.ATOMIC_GROUP:
        return _seq_needs(av, left, right)
    if op in REPEATS and av[0] >= 1:  # it occurs at least once; the first time, after what precedes it
        return _seq_needs(av[2], left, right and av[1] == 1)
    if op is C.BRANCH:  # one need per alternative, joined: whichever alternative matched
        joined: list[set[str]] = [set(), set(), set()]
        for alt in av[1]:
            alt_needs = _seq_needs(alt, left, right)
            if not alt_needs:
                return []
            for part, got in zip(joined, min(alt_needs, key=cost), strict=True):
                part |= got
        return [tuple(frozenset(part) for part in joined)]  # type: ignore[list-item]
    return []  # optional, or unknown (a back-reference, a class): no need, which is always safe


def cost(need: Need) -> float:
    """A rough chance that a need holds by accident: short words are common, heads and pieces more so."""
    words, heads, pieces = need
    return sum(1 / len(w) ** 2 for w in words) + 0.2 * len(heads) + sum(3 / len(p) ** 2 for p in pieces)


def needed_words(pattern: str | sre_parse.SubPattern, flags: int = 0, most: int = 3) -> list[Need]:
    """The ``most`` most selective needs of ``pattern`` (see the module docstring); [] when none.

    ``pattern`` may also be the pattern already parsed (``re._parser.parse``).
    """
    try:
        parsed = sre_parse.parse(pattern, flags) if isinstance(pattern, str) else pattern
        check_flags(parsed.state.flags)
        needs = _seq_needs(list(parsed))
    except (Unsupported, RecursionError):
        return []
    unique = sorted(set(needs), key=lambda n: (cost(n), [sorted(part) for part in n]))
    return unique[:most]
