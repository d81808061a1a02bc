"""How much of each batch the fetching process prepares itself, learnt from how long things take.

With worker processes (:mod:`bot.pool`) the fetching process fetches every
batch, records and commits it, marks it in the mailbox, and prepares a
share of it; the workers prepare the rest. The best share is the one that
keeps both sides equally busy, and it depends on things no constant can
know: how fast parsing and drafting are against the database's commits and
the mailbox's answers on this machine, how many cores are really free.
:class:`ShareBalancer` starts from a guess and, after each batch, moves
towards the share that would have finished both sides at the same moment.
"""

from __future__ import annotations

from dataclasses import dataclass


def first_guess(count: int, workers: int) -> int:
    """The share before anything was measured: half a worker's share.

    The fetching process also fetches, records and commits every batch,
    which costs about half of what preparing does.
    """
    return count // (2 * workers + 1)


@dataclass
class ShareBalancer:
    """The fetching process's share of a batch, balanced from measured times (seconds).

    ``observe`` takes one batch's figures: the fetching process's busy time
    apart from preparing (fetching, recording, committing, marking), its own
    preparing time and count, and the workers' preparing time and count
    (each worker's own time summed). Figures are smoothed, and each batch's
    limited to twice or half the estimate, so that one slow batch does not
    swing the share.
    """

    workers: int
    smoothing: float = 0.3  # weight of the newest batch
    fixed: float | None = None  # the fetching process's non-preparing seconds per message
    here: float | None = None  # its preparing seconds per message
    there: float | None = None  # a worker's preparing seconds per message

    def share(self, count: int) -> int:
        """How many of a batch of ``count`` the fetching process should prepare itself."""
        if self.fixed is None or self.here is None or self.there is None:
            return first_guess(count, self.workers)
        # Both sides busy for the same time: fixed*n + here*x == there*(n - x) / workers.
        per_worker = self.there / self.workers
        x = count * (per_worker - self.fixed) / (self.here + per_worker)
        return max(0, min(count, round(x)))

    def observe(
        self,
        count: int,
        fixed_seconds: float,
        own: int,
        own_seconds: float,
        theirs: int,
        their_seconds: float,
    ) -> None:
        """Learn from one batch of ``count`` (``own`` prepared here, ``theirs`` by the workers)."""
        if count <= 0:
            return
        self.fixed = self._mix(self.fixed, fixed_seconds / count)
        if own:
            self.here = self._mix(self.here, own_seconds / own)
        if theirs:
            self.there = self._mix(self.there, their_seconds / theirs)
        if self.here is None and self.there is not None:
            self.here = self.there  # nothing prepared here yet: the same code, so the same speed

    def _mix(self, old: float | None, new: float) -> float:
        if old is None:
            return new
        # A batch can be several times slower than the usual (one with large attachments, a
        # checkpoint): it may move the estimate, but not by more than it would at twice or half.
        new = min(max(new, old / 2), old * 2)
        return old + self.smoothing * (new - old)
