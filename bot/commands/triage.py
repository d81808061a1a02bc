"""``triage [--json] FILE.eml...``: classification only, no side effects."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bot.commands._common import triage_context
from bot.parse import ParseError
from bot.triage import triage_bytes


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("triage", help="classify .eml files (language, topics, action, reasons)")
    p.add_argument("files", nargs="+", metavar="FILE.eml")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument("--rules", metavar="PATH", help="rules file (default: from config, else rules.yaml)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    ctx = triage_context(args)
    status = 0
    for name in args.files:
        path = Path(name)
        out: dict[str, object] = {"file": name}
        try:
            t = triage_bytes(path.read_bytes(), config=None, rules=ctx.rules, context=ctx)
        except (OSError, ParseError) as exc:
            out.update(message_id=None, language=None, topics=[], action="quarantine", reasons=[str(exc)])
            status = 1
        else:
            out.update(
                message_id=t.message.message_id,
                language=t.language.language if t.language else None,
                topics=list(t.topic_ids),
                action=t.action.value,
                reasons=[str(r) for r in t.reasons],
            )
        if args.json:
            print(json.dumps(out, ensure_ascii=False))
        else:
            print(
                f"{name}: {out['action']} | language {out['language'] or '-'} | topics {out['topics'] or '-'}"
            )
            for reason in out["reasons"]:  # type: ignore[union-attr]
                print(f"    - {reason}")
        sys.stdout.flush()
    return status
