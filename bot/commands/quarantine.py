"""``quarantine list|retry ID``: messages that could not be handled, and trying them again."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime

from sqlalchemy import select

from bot.commands._common import actor, services_for
from bot.ingest import process
from bot.queue import audit
from bot.store import Inquiry, InquiryState


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("quarantine", help="list quarantined messages, or retry one")
    qs = p.add_subparsers(dest="quarantine_command", metavar="ACTION", required=True)
    lp = qs.add_parser("list", help="quarantined messages with the stage and error")
    lp.add_argument("--json", action="store_true", help="one JSON object per line")
    lp.set_defaults(func=run_list)
    rp = qs.add_parser("retry", help="run a quarantined message through the pipeline again")
    rp.add_argument("id", type=int)
    rp.set_defaults(func=run_retry)


def run_list(args: argparse.Namespace) -> int:
    services = services_for(args)
    with services.store.session() as s:
        rows = s.scalars(
            select(Inquiry).where(Inquiry.state == InquiryState.QUARANTINED).order_by(Inquiry.id)
        )
        count = 0
        for row in rows:
            count += 1
            entry = {"id": row.id, "stage": row.error_stage, "error": row.error, "message_id": row.message_id}
            if args.json:
                print(json.dumps(entry, ensure_ascii=False))
            else:
                print(f"{row.id:>6}  [{row.error_stage}] {row.error}")
    if not count and not args.json:
        print("quarantine: empty")
    return 0


def run_retry(args: argparse.Namespace) -> int:
    services = services_for(args)
    with services.store.session() as s:
        row = s.get(Inquiry, args.id)
        if row is None or row.state != InquiryState.QUARANTINED:
            print(f"quarantine: no quarantined message with id {args.id}")
            return 1
        row.attempts += 1
        state = process(services, s, row, row.raw, datetime.now(UTC))
        audit(s, actor(), row, "quarantine_retry", outcome=state)
    print(f"quarantine: message {args.id} is now {state}")
    return 0 if state != InquiryState.QUARANTINED else 1
