"""The fetching process's share of each batch follows the measured times, so neither side idles."""

from __future__ import annotations

import pytest

from bot.share import ShareBalancer, first_guess


def _run(
    balancer: ShareBalancer, fixed: float, here: float, there: float, batches: int = 30
) -> tuple[int, float, float]:
    """Feed ``batches`` rounds of a steady machine; returns the last share and both sides' busy time."""
    count = 100
    for _ in range(batches):
        own = balancer.share(count)
        theirs = count - own
        balancer.observe(count, fixed * count, own, here * own, theirs, there * theirs)
    own = balancer.share(count)
    return own, fixed * count + here * own, there * (count - own) / balancer.workers


def test_before_any_measurement_it_takes_half_a_workers_share() -> None:
    assert ShareBalancer(1).share(100) == first_guess(100, 1) == 33
    assert ShareBalancer(3).share(100) == first_guess(100, 3) == 14


@pytest.mark.parametrize(
    ("fixed", "here", "there", "workers"),
    [
        (0.4e-3, 1.0e-3, 1.0e-3, 1),  # the usual case: recording costs less than preparing
        (0.2e-3, 0.8e-3, 1.3e-3, 1),  # the worker's core is shared with something else
        (0.6e-3, 0.7e-3, 1.5e-3, 1),
        (0.2e-3, 1.2e-3, 1.0e-3, 3),
    ],
)
def test_the_share_settles_where_both_sides_are_equally_busy(
    fixed: float, here: float, there: float, workers: int
) -> None:
    own, main_busy, worker_busy = _run(ShareBalancer(workers), fixed, here, there)
    assert 0 < own < 100
    # One message more or less is the finest step there is.
    assert abs(main_busy - worker_busy) <= max(here, there / workers) + 1e-9


def test_a_fetching_process_busy_with_recording_alone_prepares_nothing() -> None:
    own, _, _ = _run(ShareBalancer(1), fixed=1.5e-3, here=1.0e-3, there=1.0e-3)
    assert own == 0


def test_when_the_workers_are_slow_it_takes_the_larger_part() -> None:
    own, main_busy, worker_busy = _run(ShareBalancer(1), fixed=0.2e-3, here=0.5e-3, there=2.5e-3)
    assert own > 60 and abs(main_busy - worker_busy) <= 2.5e-3


def test_one_slow_batch_moves_the_share_only_a_little() -> None:
    balancer = ShareBalancer(1)
    steady, _, _ = _run(balancer, 0.4e-3, 1.0e-3, 1.0e-3)
    balancer.observe(100, 0.4e-3 * 100, steady, 1.0e-3 * steady, 100 - steady, 10 * 1.0e-3 * (100 - steady))
    assert abs(balancer.share(100) - steady) <= 10
