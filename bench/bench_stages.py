"""Where a message's CPU goes, stage by stage, without a profiler's overhead.

    python bench/bench_stages.py [--count 2000] [--seed 9] [--rounds 3] [--only STAGE,...]

Generates ``--count`` bench inquiries (``common.Inquiries``: the backlog's
mix), then times each stage of ingestion over all of them with this
process's CPU clock, in the order a batch runs them: parse, screen +
language + topics (triage), compose, the worker's hand-back (pickling the
prepared batch and reading it back, as :mod:`bot.pool` does), and
recording (rows written in batches of 100, one commit each, into a fresh
SQLite file). Each stage runs ``--rounds`` times and the best round is
reported (the others only measure the machine's noise); recording runs
once per round into a new database. No mail server is involved: this is
the bot's own CPU, the part the backlog drain cannot go below.
"""

from __future__ import annotations

import argparse
import pickle
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

BATCH = 100


class _Server:
    """Stands in for the Dovecot and SMTP relay whose settings the config needs: nothing connects."""

    def config_dict(self, user: str | None = None) -> dict[str, object]:
        return {"host": "127.0.0.1", "port": 9, "security": "none", "username": user or "support@example.org"}


def _best(rounds: int, run: Callable[[], Any]) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(rounds):
        started = time.process_time()
        out = run()
        best = min(best, time.process_time() - started)
    return best, out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    from bot import filestamps
    from bot.compose import compose_reply
    from bot.ingest import Fetched, ingest_batch
    from bot.lookups import Lookups
    from bot.message import Action
    from bot.parse import parse_message
    from bot.pool import _slim
    from bot.prepare import Prepared, prepare
    from bot.triage import TriageContext, triage_message

    work = common.workdir("stages")
    data = common.config_dict(_Server(), _Server(), work)
    config = common.load(data)
    services = common.warm_services(config)
    raws = common.Inquiries(seed=args.seed).take(args.count)
    now = datetime.now(UTC)
    n = len(raws)
    figures: dict[str, float] = {}

    figures["parse"], msgs = _best(args.rounds, lambda: [parse_message(r) for r in raws])
    rules = services.rules.current()
    ctx = TriageContext(
        rules=rules,
        languages=config.languages,
        own_addresses=config.own_addresses(),
        available=services.reply_languages(),
    )
    figures["triage"], triages = _best(args.rounds, lambda: [triage_message(m, ctx) for m in msgs])
    wanted = [t for t in triages if t.action in (Action.DRAFT, Action.ESCALATE)]
    loader, resolve = services.template_loader(), services.packet_resolver()

    def compose() -> list[Any]:
        kw = {"config": config, "rules": rules, "loader": loader, "packets": resolve, "now": now}
        drafts = []
        for i in range(0, len(wanted), BATCH):  # as prepare() does: files checked once a batch
            with filestamps.batch():
                drafts += [compose_reply(t, **kw) for t in wanted[i : i + BATCH]]
        return drafts

    figures["compose"], _ = _best(args.rounds, compose)

    with services.store.session() as s:
        prepared = [p for i in range(0, n, BATCH) for p in prepare(services, s, raws[i : i + BATCH], now)]
        batches = [msgs[i : i + BATCH] for i in range(0, n, BATCH)]
        figures["lookups"], _ = _best(
            args.rounds, lambda: [Lookups.load(services, s, b, now, frozenset()) for b in batches]
        )
    slim = [_slim(p) for p in prepared]

    def hand_back() -> list[Prepared]:
        return [p for i in range(0, n, BATCH) for p in pickle.loads(pickle.dumps(slim[i : i + BATCH], -1))]

    figures["hand-back"], _ = _best(args.rounds, hand_back)
    size = sum(len(pickle.dumps(slim[i : i + BATCH], -1)) for i in range(0, n, BATCH)) / n

    def record() -> None:
        db = work / f"record-{time.monotonic_ns()}.db"
        store_cfg = common.load({**data, "database": {"url": f"sqlite:///{db}"}})
        from bot.services import build_services

        fresh = build_services(store_cfg)
        items = [Fetched("inbox", 1, i + 1, raw) for i, raw in enumerate(raws)]
        started = time.process_time()
        for i in range(0, n, BATCH):
            with fresh.store.session() as s:
                ingest_batch(fresh, s, items[i : i + BATCH], now=now, prepared=prepared[i : i + BATCH])
        figures_record.append(time.process_time() - started)
        fresh.store.engine.dispose()
        db.unlink()

    figures_record: list[float] = []
    for _ in range(args.rounds):
        record()
    figures["record"] = min(figures_record)

    total = sum(figures.values())
    print(f"{n} inquiries ({len(wanted)} composed), best of {args.rounds} rounds, CPU per message:")
    for name, seconds in figures.items():
        print(f"  {name:10} {1000 * seconds / n:6.3f} ms  {100 * seconds / total:4.1f}%")
    print(f"  {'total':10} {1000 * total / n:6.3f} ms")
    print(f"(hand-back happens only with worker processes; {size / 1024:.1f} KB a message)")
    common.save("stages", {"count": n, "ms_per_message": {k: 1000 * v / n for k, v in figures.items()}})
    return 0


if __name__ == "__main__":
    sys.exit(main())
