"""Growth: the cost of a poll that finds one new message, as the mailbox grows.

    python bench/bench_growth.py [--sizes 1000,10000,100000] [--repeats 20]

For each size a fresh mailbox (its own user on one loopback Dovecot) is
filled by MULTIAPPEND with that many ~2 KB inquiries (1,000 distinct bodies
with unique Message-IDs; filling is timed apart). The ledger's high-water
mark is then set directly - a ``FolderState`` row with the folder's
UIDVALIDITY and ``last_uid`` = the highest UID - and the messages are
flagged ``$HelpdeskStored``, so they count as handled, as after a full
first fetch, and only the poll is timed. One untimed poll warms
up (language profiles, packets built). Then ``--repeats`` times: one
inquiry is delivered over LMTP and ``fetch_once`` is timed: connect, log
in, SELECT, SEARCH UID last+1:*, FETCH the new one, triage, compose, store,
flag; it is timed in two parts: opening the folder (connect, log in, SELECT,
during which Dovecot syncs the folder with the new mail) and the bot's own
work after that. For contrast, on one open connection, ``SEARCH UID last+1:*`` (what
the bot asks) is timed against ``SEARCH ALL`` (what a poll that is not
incremental would have to ask, before even fetching).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402


def mailbox(size: int, seed: int) -> Any:
    pool = common.Inquiries(seed=seed, attachment_share=0).take(1000)
    for i in range(size):
        yield pool[i % len(pool)].replace(b"Message-ID: <", b"Message-ID: <g%d.%d." % (size, i), 1)


def run_size(dovecot: Any, relay: Any, size: int, repeats: int, seed: int) -> dict[str, Any]:
    from bot.config import parse_config
    from bot.fetch import fetch_once, fetch_source
    from bot.imap import source_name
    from bot.services import build_services
    from bot.sources import open_source
    from bot.sources.imap_source import PROCESSED_FLAG, ImapSource
    from bot.store import FolderState

    user = f"box{size}@example.org"
    n, fill_seconds = common.fill(dovecot, mailbox(size, seed), user=user, chunk=1000)
    print(f"  {size}: filled {n} in {fill_seconds:.1f} s ({n / fill_seconds:.0f} msg/s)", flush=True)
    work = common.workdir(f"growth{size}")
    config = parse_config(common.config_dict(dovecot, relay, work, user=user), environ={})
    services = build_services(config)
    with dovecot.imap(user) as client:
        info = client.select_folder("INBOX", readonly=True)
        uidvalidity, last = int(info[b"UIDVALIDITY"]), int(info[b"UIDNEXT"]) - 1
    with services.store.session() as s:
        s.add(FolderState(source=source_name(config.imap, "INBOX"), uidvalidity=uidvalidity, last_uid=last))
    with dovecot.imap(user) as client:  # and flagged, as the bot leaves what it stored
        client.select_folder("INBOX")
        client.add_flags(f"1:{last}", [PROCESSED_FLAG], silent=True)
    extra = common.Inquiries(seed=seed + 1, attachment_share=0, tag=f"new{size}")
    dovecot.deliver(user, extra.make(0))
    assert fetch_once(services).fetched == 1  # warm-up, not timed

    polls: list[float] = []
    opens: list[float] = []  # connect, log in, SELECT: Dovecot syncs the folder with the new mail here
    works: list[float] = []  # the bot's part: SEARCH, FETCH, ingest, commit, flag
    for i in range(1, repeats + 1):
        dovecot.deliver(user, extra.make(i))
        started = time.perf_counter()
        source = open_source(config)  # what fetch_once does, timed in two parts
        opened = time.perf_counter()
        try:
            report = fetch_source(services, source)
        finally:
            worked = time.perf_counter()
            source.close()
        done = time.perf_counter()
        polls.append((done - started) * 1000)
        opens.append((opened - started) * 1000)
        works.append((worked - opened) * 1000)
        if report.fetched != 1:
            raise RuntimeError(f"poll {i} found {report.fetched} new messages, expected 1")
    services.close()

    quiet: list[float] = []  # connect, log in, SELECT when nothing arrived since the last one
    for _ in range(repeats):
        started = time.perf_counter()
        ImapSource.connect(config.imap).close()
        quiet.append((time.perf_counter() - started) * 1000)

    incremental: list[float] = []
    full: list[float] = []
    leftovers: list[float] = []
    with dovecot.imap(user) as client:
        client.select_folder("INBOX", readonly=True)
        newest = last + repeats + 1
        for _ in range(repeats):
            t = time.perf_counter()
            client.search(["UID", f"{newest}:*"])
            incremental.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            client.search(["ALL"])
            full.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()  # what fetch_source asks first: mail stored but never flagged
            client.search(["UID", f"1:{newest}", "UNKEYWORD", PROCESSED_FLAG.decode()])
            leftovers.append((time.perf_counter() - t) * 1000)
    return {
        "mailbox": size,
        "fill": {"messages": n, "seconds": round(fill_seconds, 2), "msg_per_s": round(n / fill_seconds, 1)},
        "high_water_mark": "set directly: FolderState.last_uid = UIDNEXT - 1 after filling",
        "poll_ms": common.stats(polls),
        "poll_open_ms": common.stats(opens),
        "poll_bot_work_ms": common.stats(works),
        "connect_login_select_nothing_new_ms": common.stats(quiet),
        "search_new_ms": common.stats(incremental),
        "search_all_ms": common.stats(full),
        "search_unflagged_ms": common.stats(leftovers),
        "loadavg_1min_after": round(os.getloadavg()[0], 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--name", default="growth")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    runs = []
    started = time.perf_counter()
    with common.servers() as (dovecot, relay):
        for size in sizes:
            runs.append(run_size(dovecot, relay, size, args.repeats, args.seed))
    print(f"poll finding 1 new message, {args.repeats} polls each (connect, login, SELECT ... ingest, flag)")
    for r in runs:
        p, inc, full = r["poll_ms"], r["search_new_ms"], r["search_all_ms"]
        print(
            f"  {r['mailbox']:>7,} messages: poll median {p['median']:.1f} ms, p95 {p['p95']:.1f} ms "
            f"= open {r['poll_open_ms']['median']:.1f} + bot {r['poll_bot_work_ms']['median']:.1f} ms "
            f"(bot p95 {r['poll_bot_work_ms']['p95']:.1f}; open with nothing new "
            f"{r['connect_login_select_nothing_new_ms']['median']:.1f} ms) | "
            f"SEARCH UID n:* {inc['median']:.2f} ms vs SEARCH ALL {full['median']:.2f} ms; "
            f"SEARCH UID 1:n UNKEYWORD {r['search_unflagged_ms']['median']:.2f} ms"
        )
    print(f"total {time.perf_counter() - started:.0f} s")
    path = common.save(args.name, {"repeats": args.repeats, "runs": runs})
    print(f"results: {path.relative_to(common.ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
