"""Backlog throughput and memory: N inquiries waiting in INBOX, from start to all drafted.

    python bench/bench_backlog.py [--count 10000] [--compare 2000] [--profile FILE.html|FILE.txt]

A fresh Dovecot on loopback gets ``--count`` realistic inquiries (English
and Spanish, 1-4 KB, 5% with a 100 KB attachment; see ``common.Inquiries``)
by MULTIAPPEND; filling is timed on its own. Then, in the same run:

1. the IMAP ceiling: SEARCH and FETCH BODY.PEEK[] of every message in
   batches of 100 (the bot's batch size), no processing;
2. the drain: a child process (so its peak RSS is the bot's own) opens
   the bot's services, warms up (rules, templates, packets built, language
   profiles loaded; timed apart), then runs one ``fetch_once`` - SEARCH,
   FETCH, parse, screen, language, topics, compose with PDF packets, store
   inquiry and draft, flag the messages - and counts the outcomes.

``--compare N`` drains a second, smaller mailbox of N messages the same way,
to see whether peak memory grows with the backlog. ``--profile`` runs the
drain under pyinstrument and writes its HTML and text report.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402


def drain(config_path: str, profile: str | None) -> dict[str, Any]:
    """The child: build services, warm up, time one full fetch of the backlog."""
    from sqlalchemy import func, select

    from bot.config import load_config
    from bot.fetch import fetch_once
    from bot.store import Inquiry, Reply

    t0 = time.perf_counter()
    config = load_config(config_path)
    services = common.warm_services(config)
    from bot.language import detect_language
    from bot.parse import parse_message
    from bot.triage import TriageContext

    ctx = TriageContext.from_config(config, services.rules.current())
    sample = common.Inquiries(seed=1).make(0)
    detect_language(parse_message(sample), ctx.rules, ctx.languages, ctx.available)
    _ = ctx.rules.compiled  # the topic matcher, compiled once per rules version
    pool = services.prepare_pool()
    workers: list[int] = []
    if pool is not None:  # starting the worker processes is start-up too: not timed
        from datetime import UTC, datetime

        pool(common.Inquiries(seed=2).take(4 * pool.processes), datetime.now(UTC))
        workers = list(pool._executor._processes)  # type: ignore[union-attr]
    warm = time.perf_counter() - t0
    rss_before = common.peak_rss_mb()
    workers_before = {pid: common.proc_figures(pid) for pid in workers}

    profiler = None
    if profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.005)  # coarse: 1 ms sampling doubled the run time
        profiler.start()
    load_before = os.getloadavg()[0]
    started, cpu = time.perf_counter(), time.process_time()
    report = fetch_once(services)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    workers_after = {pid: common.proc_figures(pid) for pid in workers}
    own_pss = common.proc_figures(os.getpid())["pss_mb"]
    worker_cpu = sum(workers_after[p]["cpu_seconds"] - workers_before[p]["cpu_seconds"] for p in workers)
    if profiler:
        profiler.stop()
        out = Path(profile)
        if out.suffix == ".html":
            out.write_text(profiler.output_html())
            out = out.with_suffix(".txt")
        out.write_text(profiler.output_text(unicode=False, color=False))

    # The fetching process's share of a batch of 100 that the balancer settled on (bot.share).
    share = pool.balancer.share(100) if pool is not None else 100
    with services.store.session() as s:
        states = dict(s.execute(select(Inquiry.state, func.count()).group_by(Inquiry.state)).all())
        replies = s.scalar(select(func.count(Reply.id))) or 0
        reply_bytes = s.scalar(select(func.sum(func.length(Reply.stored_raw)))) or 0
    services.close()
    db = Path(config.database.url.removeprefix("sqlite:///"))
    db_bytes = sum(p.stat().st_size for p in db.parent.glob(db.name + "*"))
    return {
        "messages": report.fetched,
        "seconds": round(seconds, 3),
        "msg_per_s": round(report.fetched / seconds, 1) if seconds else 0.0,
        "processes": len(workers),
        "own_share_of_100": share,
        "cpu_seconds": round(cpu, 3),
        "worker_cpu_seconds": round(worker_cpu, 3),
        "cpu_ms_per_msg": round((cpu + worker_cpu) / report.fetched * 1000, 2) if report.fetched else 0.0,
        "fetching_process_cpu_ms_per_msg": round(cpu / report.fetched * 1000, 2) if report.fetched else 0.0,
        "loadavg_1min_before_after": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "warmup_seconds": round(warm, 2),
        "states": states,
        "replies": replies,
        "reply_raw_mb": round(reply_bytes / 1e6, 1),
        "database_mb": round(db_bytes / 1e6, 1),
        "peak_rss_mb_after_warmup": rss_before,
        "peak_rss_mb": common.peak_rss_mb(),
        "worker_peak_rss_mb": [workers_after[p]["peak_rss_mb"] for p in workers],
        "pss_total_mb": round(own_pss + sum(workers_after[p]["pss_mb"] for p in workers), 1),
        "profiled": bool(profile),
    }


def run_one(count: int, seed: int, profile: str | None, processes: int, batch: int) -> dict[str, Any]:
    """Fill a fresh mailbox with ``count`` inquiries, measure the ceiling, then drain it in a child."""
    work = common.workdir(f"backlog{count}")
    result: dict[str, Any] = {"count": count}
    with common.servers() as (dovecot, relay):
        data = common.config_dict(dovecot, relay, work)
        data["ingest"] = {"processes": processes}
        data["imap"]["batch_size"] = batch
        cfg = common.write_config(data, work / "bot.yaml")
        t = time.perf_counter()
        messages = common.Inquiries(seed=seed).take(count)
        result["generate_seconds"] = round(time.perf_counter() - t, 2)
        result["mailbox_mb"] = round(sum(map(len, messages)) / 1e6, 1)
        result["with_attachment"] = sum(1 for m in messages if len(m) > 50_000)
        n, seconds = common.fill(dovecot, messages)
        del messages
        result["fill"] = {"messages": n, "seconds": round(seconds, 2), "msg_per_s": round(n / seconds, 1)}
        print(f"  filled {n} messages in {seconds:.1f} s ({n / seconds:.0f} msg/s, MULTIAPPEND)", flush=True)
        result["imap_ceiling"] = common.raw_fetch(dovecot, batch=100)
        print(f"  IMAP ceiling: {result['imap_ceiling']['msg_per_s']:.0f} msg/s", flush=True)
        cmd = [sys.executable, __file__, "--drain", str(cfg), "--out", str(work / "drain.json")]
        if profile:
            cmd += ["--profile", profile]
        subprocess.run(cmd, check=True, cwd=common.ROOT, env={**os.environ, "PYTHONHASHSEED": "0"})
        result["drain"] = json.loads((work / "drain.json").read_text())
    d = result["drain"]
    result["ratio_to_ceiling"] = round(d["msg_per_s"] / result["imap_ceiling"]["msg_per_s"], 3)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--compare", type=int, default=2_000, help="also drain this many (0: skip)")
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--profile", metavar="FILE", help="pyinstrument report: .html (and .txt) or .txt")
    parser.add_argument("--batch", type=int, default=100, help="imap.batch_size")
    parser.add_argument("--processes", type=int, default=0, help="ingest.processes (0: one per core)")
    parser.add_argument("--name", default="backlog", help="results file name (bench/results/NAME.json)")
    parser.add_argument("--drain", metavar="CONFIG", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.drain:  # the child process
        Path(args.out).write_text(json.dumps(drain(args.drain, args.profile)))
        return 0

    runs = []
    for count in [c for c in (args.compare, args.count) if c]:
        print(f"backlog of {count}:", flush=True)
        profile = args.profile if count == args.count else None
        run = run_one(count, args.seed, profile, args.processes, args.batch)
        d = run["drain"]
        print(
            f"  drained {d['messages']} in {d['seconds']:.1f} s = {d['msg_per_s']:.0f} msg/s "
            f"({run['ratio_to_ceiling']:.1%} of the IMAP ceiling); warm-up {d['warmup_seconds']:.1f} s; "
            f"peak RSS {d['peak_rss_mb']:.0f} MB (after warm-up {d['peak_rss_mb_after_warmup']:.0f} MB), "
            f"workers {d['worker_peak_rss_mb']} MB, PSS of all {d['pss_total_mb']:.0f} MB; "
            f"CPU {d['cpu_ms_per_msg']:.2f} ms a message ({d['fetching_process_cpu_ms_per_msg']:.2f} in the "
            f"fetching process, {d['processes']} workers; "
            f"it prepared {d['own_share_of_100']} of 100 at the end)",
            flush=True,
        )
        print(f"  outcomes {d['states']}; database {d['database_mb']} MB", flush=True)
        runs.append(run)
    path = common.save(args.name, {"runs": runs})
    print(f"results: {path.relative_to(common.ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
