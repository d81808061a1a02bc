"""Composing replies: milliseconds per drafted reply, with the real templates and PDF packets.

    python bench/bench_compose.py [--count 500] [--seed 3] [--repeat 3] [--profile FILE.txt]

Triages ``--count`` bench inquiries (``common.Inquiries``, English and
Spanish) once, untimed, and keeps those the bot would draft or escalate.
Then composes each of them ``--repeat`` times with the services a worker
uses: the template loader, the packet resolver over PDFs built beforehand
(so each reply carries its 1-3 real packet parts, ~46 KB), and the rules.
Warm-up (rules, templates, packets built and read once) is not timed.
Prints the median, p95 and mean milliseconds per reply (every composition
timed on its own, wall clock and this thread's CPU time: on a shared
machine the CPU time is the steadier of the two) and the mean reply size; nothing is written to disk but
the temp directory's database and PDFs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=500, help="inquiries to triage (default 500)")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=3, help="compositions per inquiry (default 3)")
    parser.add_argument("--profile", metavar="FILE", help="write a cProfile report (text) of the timed loop")
    args = parser.parse_args()

    from bot.compose import compose_reply
    from bot.message import Action
    from bot.parse import parse_message
    from bot.triage import TriageContext, triage_message

    work = common.workdir("compose")
    data = common.config_dict(_Server(), _Server(), work)
    config = common.load(data)
    services = common.warm_services(config)
    loader = services.template_loader()
    resolve = services.packet_resolver()
    rules = services.rules.current()
    ctx = TriageContext.from_config(config, rules)
    wanted = (Action.DRAFT, Action.ESCALATE)
    triages = [
        t
        for t in (
            triage_message(parse_message(r), ctx) for r in common.Inquiries(seed=args.seed).take(args.count)
        )
        if t.action in wanted
    ]
    now = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)

    def compose(triage):  # type: ignore[no-untyped-def]
        return compose_reply(triage, config=config, rules=rules, loader=loader, packets=resolve, now=now)

    for t in triages:  # warm-up: every template compiled, every packet part made once
        compose(t)

    def timed() -> tuple[list[float], list[float], int]:
        times, cpu, size = [], [], 0
        for _ in range(args.repeat):
            for t in triages:
                start, start_cpu = time.perf_counter(), time.thread_time()
                draft = compose(t)
                cpu.append((time.thread_time() - start_cpu) * 1000)
                times.append((time.perf_counter() - start) * 1000)
                size += len(draft.raw)
        return times, cpu, size

    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.enable()
        times, cpu, size = timed()
        profiler.disable()
        with open(args.profile, "w") as out:
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(60)
    else:
        times, cpu, size = timed()
    services.close()
    print(
        f"compose: {len(triages)} replies x {args.repeat}: median {statistics.median(times):.3f} ms, "
        f"p95 {common.percentile(times, 0.95):.3f} ms, mean {statistics.fmean(times):.3f} ms per reply; "
        f"mean reply {size / len(times) / 1000:.1f} KB"
    )
    print(  # CPU time of this thread: what the shared machine's other work cannot inflate as much
        f"  cpu: median {statistics.median(cpu):.3f} ms, p95 {common.percentile(cpu, 0.95):.3f} ms, "
        f"mean {statistics.fmean(cpu):.3f} ms per reply; load average {os.getloadavg()[0]:.2f}"
    )
    return 0


class _Server:
    """Stands in for the Dovecot and SMTP relay whose settings the config needs: nothing connects."""

    def config_dict(self, user: str | None = None) -> dict[str, object]:
        return {"host": "127.0.0.1", "port": 9, "security": "none", "username": user or "support@example.org"}


if __name__ == "__main__":
    sys.exit(main())
