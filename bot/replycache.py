"""What the composer asks of the replies folder, answered from memory while the folder is unchanged.

Every reply asks the same two questions: which language has every template
it needs (:meth:`TemplateLoader.choose_language` checks each file with
pathlib: 60-150 us a reply) and what the disclaimer says (a file read).
A backlog drain asks them thousands of times of a folder nobody is editing.

An answer is kept with the ``stat`` of what it depends on and reused only
while those are unchanged: for the language, the folders holding the
templates (a file appearing or vanishing changes its folder's times) in
every language it may try, and the replies folder; for the disclaimer, the
file itself. Like git's "racy clean" rule, nothing changed in the last
:data:`SETTLE_NS` is trusted, since file times are only as fine as the
kernel's clock tick: a second change within the same tick could keep them.
One limit: a template that is a symlink whose target is removed is not
noticed (its folder does not change); the render then fails loudly.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from bot.disclaimer import load_disclaimer
from bot.templates import DISCLAIMER, TemplateLoader

SETTLE_NS = 2_000_000_000  # answers about anything changed more recently than this are not kept
_MAX = 256  # keys are few (languages x topic combinations); cleared when full

_Stamp = tuple[tuple[int, int, int, int] | None, ...]
_chosen: dict[tuple[Any, ...], tuple[str, tuple[str, ...], _Stamp]] = {}
_disclaimers: dict[str, tuple[tuple[int, int, int, int], str]] = {}


def _stat(path: str) -> tuple[int, int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino)


def _settled(stamps: Iterable[tuple[int, int, int, int] | None]) -> bool:
    horizon = time.time_ns() - SETTLE_NS
    return all(s is None or max(s[0], s[1]) < horizon for s in stamps)


def _folders(replies: str, languages: Sequence[str], names: Sequence[str]) -> tuple[str, ...]:
    subdirs = dict.fromkeys(os.path.dirname(n) for n in names)
    return (replies, *(os.path.join(replies, lang, sub) for lang in languages for sub in subdirs))


def choose_language(loader: TemplateLoader, requested: str | None, names: Sequence[str]) -> str:
    """``loader.choose_language(requested, names)``, kept while the folders it looked in are unchanged.

    Raises what :meth:`TemplateLoader.choose_language` raises (never kept).
    """
    replies = str(loader.replies_dir)
    key = (replies, loader.default_language, tuple(loader.fallback), requested, tuple(names))
    hit = _chosen.get(key)
    if hit is not None and tuple(map(_stat, hit[1])) == hit[2]:
        return hit[0]
    # The answer depends on the folders of every language it may try; their times are read
    # before the files are checked, so a change made meanwhile shows as a different stamp.
    folders = _folders(replies, loader.search_order(requested), names)
    stamps = tuple(map(_stat, folders))
    language = loader.choose_language(requested, list(names))
    if _settled(stamps):
        if len(_chosen) >= _MAX:
            _chosen.clear()
        _chosen[key] = (language, folders, stamps)
    return language


def disclaimer(replies_dir: Path | str, language: str) -> str | None:
    """:func:`bot.disclaimer.load_disclaimer`, kept while the file is unchanged (a missing one never is)."""
    path = os.path.join(replies_dir, language, DISCLAIMER)
    stamp = _stat(path)
    hit = _disclaimers.get(path)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    text = load_disclaimer(Path(replies_dir), language)
    if text is not None and stamp is not None and _settled([stamp]):
        if len(_disclaimers) >= _MAX:
            _disclaimers.clear()
        _disclaimers[path] = (stamp, text)
    return text
