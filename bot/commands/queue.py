"""``queue list|show|approve|reject``: the staff's queue from the terminal."""

from __future__ import annotations

import argparse
import json

from bot.commands._common import actor, services_for
from bot.queue import QueueError, approve, get, latest_reply, list_items, reject
from bot.store import OPEN_STATES


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("queue", help="list, show, approve or reject queued inquiries")
    qs = p.add_subparsers(dest="queue_command", metavar="ACTION", required=True)
    lp = qs.add_parser("list", help="what waits for staff: urgent first, then oldest")
    lp.add_argument("--json", action="store_true", help="one JSON object per line")
    lp.add_argument("--all", action="store_true", help="every state, not only open items")
    lp.add_argument("--state", action="append", help="only this state (repeatable)")
    lp.set_defaults(func=run_list)
    sp = qs.add_parser("show", help="an inquiry, its reasons and its drafted reply")
    sp.add_argument("id", type=int)
    sp.set_defaults(func=run_show)
    ap = qs.add_parser("approve", help="approve the drafted reply; `send` sends it")
    ap.add_argument("id", type=int)
    ap.set_defaults(func=run_approve)
    rp = qs.add_parser("reject", help="reject the item; its draft is never sent")
    rp.add_argument("id", type=int)
    rp.add_argument("--reason", default="", help="why (kept in the audit log)")
    rp.set_defaults(func=run_reject)


def run_list(args: argparse.Namespace) -> int:
    services = services_for(args)
    states = tuple(args.state) if args.state else (None if args.all else OPEN_STATES)
    with services.store.session() as s:
        items = list_items(s, states, limit=10_000)
        for item in items:
            if args.json:
                print(json.dumps(item.as_json(), ensure_ascii=False))
            else:
                flag = "URGENT " if item.urgent else ""
                print(
                    f"{item.id:>6}  {flag}{item.state:<10} {item.language or '-':<3} "
                    f"{','.join(item.topics) or '-':<30} {item.subject[:50]}"
                )
    if not args.json and not items:
        print("queue: nothing waiting")
    return 0


def run_show(args: argparse.Namespace) -> int:
    services = services_for(args)
    with services.store.session() as s:
        try:
            inq = get(s, args.id)
        except QueueError as exc:
            print(f"queue: {exc}")
            return 1
        print(f"Inquiry {inq.id}: {inq.state}{' (URGENT)' if inq.urgent else ''}")
        print(f"Subject:  {inq.subject}")
        print(f"From:     {inq.from_name} <{inq.from_address}>")
        print(f"Language: {inq.language or '-'} (reply in {inq.reply_language or '-'})")
        print(f"Topics:   {', '.join(inq.topics) or '-'}")
        print(f"Action:   {inq.action}")
        if inq.error:
            print(f"Error:    [{inq.error_stage}] {inq.error}")
        print("Why:")
        for reason in inq.reasons:
            print(f"  - {reason}")
        reply = latest_reply(inq)
        if reply:
            print(
                f"\nReply ({reply.state}), to {reply.to_address}, packets: {', '.join(reply.packets) or '-'}"
            )
            if reply.last_error:
                print(f"  send error (attempt {reply.attempts}): {reply.last_error}")
            for note in reply.notes:
                print(f"  note: {note}")
            print(f"Subject: {reply.subject}\n")
            print(reply.text)
    return 0


def _act(args: argparse.Namespace, fn, verb: str) -> int:  # type: ignore[no-untyped-def]
    services = services_for(args)
    try:
        with services.store.session() as s:
            fn(s, args.id)
    except QueueError as exc:
        print(f"queue: {exc}")
        return 1
    print(f"queue: inquiry {args.id} {verb}")
    return 0


def run_approve(args: argparse.Namespace) -> int:
    return _act(args, lambda s, i: approve(s, i, actor()), "approved; `send --once` sends it")


def run_reject(args: argparse.Namespace) -> int:
    return _act(args, lambda s, i: reject(s, i, actor(), args.reason), "rejected")
