"""Knowing that a file or folder is unchanged without reading it: its ``stat`` stamp.

An answer worked out from files (which language has every template, what
the disclaimer says) can be kept with the stamps of what it depends on and
reused while those are unchanged. Like git's "racy clean" rule, nothing
changed in the last :data:`SETTLE_NS` is trusted, since file times are only
as fine as the kernel's clock tick: a second change within the same tick
could keep them.
"""

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
