"""The benchmarks' generated inquiries (bench/common.py ``Inquiries``), for tests. Not a test module."""

from __future__ import annotations

import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench"


def bench_inquiries(seed: int, count: int) -> list[bytes]:
    """``count`` raw inquiries of ``Inquiries(seed=seed)``: the backlog's mix, the same every run."""
    sys.path.insert(0, str(BENCH))
    try:
        import common
    finally:
        sys.path.remove(str(BENCH))
    return common.Inquiries(seed=seed).take(count)
