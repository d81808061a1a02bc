"""Staff app: server time of the queue page and an inquiry page with 10,000 items waiting.

    python bench/bench_webapp.py [--items 10000] [--requests 200]

The database is made the way the bot makes it: ``--seed-real`` (400)
generated inquiries go through ``bot.ingest.ingest`` (parse, triage,
compose with PDF packets), then their rows are copied with new UIDs,
Message-IDs and arrival times spread over 30 days until ``--items``
inquiries (and their drafts, ~46 KB each with the packets) are in the
ledger. The web app (``bot.web.create_app``) is then asked through Flask's
test client, signed in as a staff account, so the figures are server time
(routing, queries, templates), no network. Each page is asked 10 times to
warm up, then ``--requests`` times; inquiry pages cycle through that many
different inquiries.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

PASSWORD = "bench password 1234"


def web_config(work: Path) -> Any:
    from bot.config import parse_config

    return parse_config(
        {
            "organisation": {
                "name": "ALS Worldwide",
                "address": common.USER,
                "reply_name": "ALS Worldwide support team",
            },
            "mailbox": {"kind": "maildir", "maildir": str(work / "maildir")},
            "smtp": {"host": "127.0.0.1", "port": 2525, "security": "none"},
            "database": {"url": f"sqlite:///{work / 'bot.db'}"},
            "paths": {
                "rules": str(common.ROOT / "rules.yaml"),
                "replies": str(common.ROOT / "replies"),
                "packets": str(work / "packets"),
            },
            "web": {"host": "127.0.0.1", "port": 8080, "secret_key": "bench-secret-key"},
        },
        environ={},
    )


def seed(services: Any, items: int, real: int) -> dict[str, Any]:
    """``real`` inquiries through ingest, then copies of them up to ``items``."""
    from sqlalchemy import insert, select

    from bot.ingest import Fetched, ingest
    from bot.store import Inquiry, Reply

    started = time.perf_counter()
    messages = common.Inquiries(seed=31).take(real)
    with services.store.session() as s:
        for uid, raw in enumerate(messages, 1):
            ingest(services, s, Fetched("imap:bench", 1, uid, raw))
    ingested = time.perf_counter() - started

    started = time.perf_counter()
    inq_cols = [c.key for c in Inquiry.__table__.columns if c.key != "id"]
    rep_cols = [c.key for c in Reply.__table__.columns if c.key not in ("id", "inquiry_id")]
    with services.store.session() as s:
        originals = [dict(r._mapping) for r in s.execute(select(*Inquiry.__table__.columns))]
        replies = {r.inquiry_id: dict(r._mapping) for r in s.execute(select(*Reply.__table__.columns))}
        next_id = max(o["id"] for o in originals) + 1
    rnd = random.Random(31)
    now = datetime.now(UTC)
    made = len(originals)
    while made < items:
        with services.store.session() as s:
            inq_rows, rep_rows = [], []
            for _ in range(min(1000, items - made)):
                o = originals[made % len(originals)]
                row = {k: o[k] for k in inq_cols}
                row.update(
                    id=next_id,
                    uid=next_id,
                    message_id=o["message_id"].replace("<", f"<c{next_id}.", 1),
                    received_at=now - timedelta(seconds=rnd.randint(60, 30 * 86400)),
                    from_address=f"c{next_id}.{o['from_address']}",
                )
                inq_rows.append(row)
                if (r := replies.get(o["id"])) is not None:
                    reply = {k: r[k] for k in rep_cols}
                    reply.update(
                        inquiry_id=next_id, message_id=r["message_id"].replace("<", f"<c{next_id}.", 1)
                    )
                    rep_rows.append(reply)
                next_id += 1
                made += 1
            s.execute(insert(Inquiry), inq_rows)
            if rep_rows:  # column names: the ORM's is stored_raw for the column raw
                s.execute(insert(Reply.__table__), rep_rows)
    return {
        "ingested": real,
        "ingest_seconds": round(ingested, 1),
        "copied": items - real,
        "copy_seconds": round(time.perf_counter() - started, 1),
    }


def timed(client: Any, paths: list[str], requests: int) -> dict[str, Any]:
    for path in paths[:10]:  # warm-up
        client.get(path)
    times, size = [], 0
    for i in range(requests):
        path = paths[i % len(paths)]
        started = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"GET {path}: {response.status_code}")
        size += len(response.data)
    return {**common.stats(times), "kb_per_page": round(size / requests / 1024, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--seed-real", type=int, default=400)
    parser.add_argument("--name", default="webapp")
    args = parser.parse_args()

    from sqlalchemy import func, select

    from bot.services import build_services
    from bot.store import Inquiry
    from bot.store.users import User
    from bot.web import create_app
    from bot.web.security import hash_password

    work = common.workdir("webapp")
    config = web_config(work)
    services = build_services(config)
    seeded = seed(services, args.items, min(args.seed_real, args.items))
    with services.store.session() as s:
        s.add(User(username="sam", role="staff", password_hash=hash_password(PASSWORD)))
        total = s.scalar(select(func.count(Inquiry.id)))
        open_ids = list(s.scalars(select(Inquiry.id).where(Inquiry.state.in_(["drafted", "escalated"]))))
    db_mb = sum(p.stat().st_size for p in work.glob("bot.db*")) / 1e6
    print(
        f"{total} inquiries in the ledger ({seeded['ingested']} ingested in {seeded['ingest_seconds']} s, "
        f"the rest copied in {seeded['copy_seconds']} s); database {db_mb:.0f} MB",
        flush=True,
    )

    app = create_app(config, services, settings={"SECRET_KEY_FILE": str(work / "web_secret_key")})
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    login = client.post("/login", data={"username": "sam", "password": PASSWORD, "csrf_token": token})
    if login.status_code != 302:
        raise RuntimeError(f"login failed: {login.status_code}")

    rnd = random.Random(5)
    sample = rnd.sample(open_ids, min(args.requests, len(open_ids)))
    pages = {
        "queue, first page": ["/queue"],
        "queue, page 100": ["/queue?page=100"],
        "queue, topic and language filter": ["/queue?topic=dosage&language=es"],
        "queue, topic filter, page 20": ["/queue?topic=dosage&page=20"],
        "queue, everything, page 100": ["/queue?state=all&page=100"],
        "inquiry page": [f"/inquiry/{i}" for i in sample],
        "reply preview frame": [f"/inquiry/{i}/reply.html" for i in sample],
    }
    results = {}
    for label, paths in pages.items():
        results[label] = timed(client, paths, args.requests)
        r = results[label]
        print(
            f"  {label:<34} median {r['median']:6.1f} ms   p95 {r['p95']:6.1f} ms   max {r['max']:6.1f} ms"
            f"   ({r['kb_per_page']} KB)",
            flush=True,
        )
    services.close()
    path = common.save(
        args.name,
        {
            "items": total,
            "requests": args.requests,
            "seed": seeded,
            "database_mb": round(db_mb),
            "pages_ms": results,
            "loadavg_1min_after": round(os.getloadavg()[0], 2),
        },
    )
    print(f"results: {path.relative_to(common.ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
