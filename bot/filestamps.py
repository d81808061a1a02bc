"""Knowing that a file or folder is unchanged without reading it: its ``stat`` stamp.

An answer worked out from files (which language has every template, what
the disclaimer says) can be kept with the stamps of what it depends on and
reused while those are unchanged. Like git's "racy clean" rule, nothing
changed in the last :data:`SETTLE_NS` is trusted, since file times are only
as fine as the kernel's clock tick: a second change within the same tick
could keep them.

Every call checks the files again, so an admin's edit is seen at once (the
web app relies on it). A batch of messages can instead look once: within
``with filestamps.batch():`` each path is stat'ed once and answers kept with
:func:`per_batch` are worked out once, so an edit made during the batch
is seen by the next one. The batch is a context variable, so threads (the
web app's, the worker's) never share one.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Hashable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

SETTLE_NS = 2_000_000_000  # answers about anything changed more recently than this are not kept

Stamp = tuple[int, int, int, int]
T = TypeVar("T")

# The running batch's memory: ("stamp", path) -> Stamp | None, and callers' own keys -> answers.
_BATCH: ContextVar[dict[Hashable, Any] | None] = ContextVar("filestamps_batch", default=None)


@contextmanager
def batch() -> Iterator[None]:
    """Within the block, files are checked once: each path's stamp and each kept answer is reused.

    Nested blocks share the outermost one's memory. Leaving the block forgets
    it all, so the next batch sees every change made meanwhile.
    """
    if _BATCH.get() is not None:
        yield
        return
    token = _BATCH.set({})
    try:
        yield
    finally:
        _BATCH.reset(token)


def batch_memory() -> dict[Hashable, Any] | None:
    """The running batch's memory (stamps and :func:`per_batch` answers), or None outside a batch.

    An answer kept here lives until the batch ends, whatever happens on disk.
    """
    return _BATCH.get()


def per_batch(key: Hashable, compute: Callable[[], T]) -> T:
    """``compute()``, worked out once within the running :func:`batch` (``key``, a tuple starting
    with the caller's name, names the answer), and at every call outside one."""
    memory = _BATCH.get()
    if memory is None:
        return compute()
    if key not in memory:  # None is an answer too (a language without a disclaimer)
        memory[key] = compute()
    return memory[key]  # type: ignore[no-any-return]


def stamp(path: str | os.PathLike[str]) -> Stamp | None:
    """(mtime, ctime, size, inode) of ``path``; None when it cannot be read.

    Within a :func:`batch`, the first answer for ``path`` is reused.
    """
    memory = _BATCH.get()
    if memory is None:
        return _stat(path)
    key = ("stamp", path)
    try:
        return memory[key]  # type: ignore[no-any-return]
    except KeyError:
        memory[key] = found = _stat(path)
        return found


def _stat(path: str | os.PathLike[str]) -> Stamp | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino)


def settled(stamps: Iterable[Stamp | None]) -> bool:
    """Whether nothing stamped changed within :data:`SETTLE_NS` (missing paths count as settled)."""
    horizon = time.time_ns() - SETTLE_NS
    return all(s is None or max(s[0], s[1]) < horizon for s in stamps)
