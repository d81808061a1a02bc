"""``preview FILE.eml [--out PATH]``: the reply the bot would draft, written to a file and shown.

Nothing is stored or sent: the inquiry is triaged, the reply composed, its
exact bytes written to ``--out`` (default ``./<stem>.reply.eml`` in the
current directory) and its headers, text part and attachments printed.
Mail the bot would ignore, or that no topic covers, gets no reply file.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import sys
from pathlib import Path

from bot.config import load_config
from bot.message import Action

SHOWN_HEADERS = (
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "In-Reply-To",
    "References",
    "Content-Language",
    "Auto-Submitted",
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("preview", help="compose the reply to one .eml file and show it (nothing is sent)")
    p.add_argument("file", metavar="FILE.eml")
    p.add_argument("--out", metavar="PATH", help="where to write the reply (default: ./<stem>.reply.eml)")
    p.add_argument("--rules", metavar="PATH", help="rules file (default: paths.rules from the config)")
    p.set_defaults(func=run)


def show(raw: bytes) -> str:
    """A reply as a person reads it: the main headers, the text part, the attachments."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    lines = [f"{name}: {msg[name]}" for name in SHOWN_HEADERS if msg[name] is not None]
    body = msg.get_body(preferencelist=("plain",))  # type: ignore[attr-defined]
    lines += ["", body.get_content().rstrip() if body is not None else "(no text part)", ""]
    for part in msg.iter_attachments():  # type: ignore[attr-defined]
        size = len(part.get_payload(decode=True) or b"")
        lines.append(f"[attachment] {part.get_filename()} ({part.get_content_type()}, {size} bytes)")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    # Imported here: the pipeline modules load rules and templates, which --help does not need.
    from bot.compose import compose_reply, packet_resolver
    from bot.rules import load_rules
    from bot.templates import TemplateLoader
    from bot.triage import triage_bytes

    config = load_config(args.config)
    rules = load_rules(Path(args.rules) if args.rules else config.paths.rules)
    path = Path(args.file)
    triage = triage_bytes(path.read_bytes(), config=config, rules=rules)
    if triage.action in (Action.IGNORE, Action.MANUAL):
        why = "the bot ignores it" if triage.action is Action.IGNORE else "no topic matched: a person answers"
        print(f"{path}: {triage.action.value}: {why}; no reply written")
        for reason in triage.reasons:
            print(f"    - {reason}")
        return 0
    langs = config.languages
    draft = compose_reply(
        triage,
        config=config,
        rules=rules,
        loader=TemplateLoader(config.paths.replies, langs.default, list(langs.fallback)),
        packets=packet_resolver(config),
    )
    out = Path(args.out) if args.out else Path.cwd() / f"{path.stem}.reply.eml"
    out.write_bytes(draft.raw)
    print(show(draft.raw))
    for note in draft.notes:
        print(f"[note] {note}")
    if triage.action is Action.ESCALATE:
        print("[note] urgent: staff review this reply before anything is sent")
    print(f"\nwritten to {out}", file=sys.stderr)
    return 0
