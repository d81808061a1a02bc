"""File stamps as they were at 5524a7a (no batches), frozen for the equivalence test."""

# ruff: noqa
from __future__ import annotations

import os
import time
from collections.abc import Iterable

SETTLE_NS = 2_000_000_000  # answers about anything changed more recently than this are not kept

Stamp = tuple[int, int, int, int]


def stamp(path: str | os.PathLike[str]) -> Stamp | None:
    """(mtime, ctime, size, inode) of ``path``; None when it cannot be read."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino)


def settled(stamps: Iterable[Stamp | None]) -> bool:
    """Whether nothing stamped changed within :data:`SETTLE_NS` (missing paths count as settled)."""
    horizon = time.time_ns() - SETTLE_NS
    return all(s is None or max(s[0], s[1]) < horizon for s in stamps)
