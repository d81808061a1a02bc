"""Try a message: ``/admin/try`` shows what the bot would do with a pasted or uploaded email.

No side effects: nothing is stored, queued, sent, logged or built. The
message is triaged with the live rules (or, from the rules editor, with the
rules being edited, which are not saved) and its reply is composed with the
real templates; packets are named but not built (:func:`dry_packets`). The
reply's HTML part is shown in a sandboxed frame, as on the inquiry page.

:func:`render_reply` and :func:`wrap` are shared with the template editor's
preview.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from flask import abort, render_template, request

from bot.compose import PacketResolver, compose_reply
from bot.config import Config
from bot.message import Draft, Triage
from bot.parse import parse_message
from bot.rules import Rules, RulesError, parse_rules
from bot.templates import TemplateLoader
from bot.triage import TriageContext, triage_message
from bot.web import common
from bot.web.editor import bp

SENDER = "someone@example.com"
# What the frame showing a rendered reply may do: show it, nothing else.


class PreviewStore:
    """Rendered reply HTML kept briefly for the sandboxed frame; per account, in memory, bounded."""

    def __init__(self, size: int = 64, seconds: float = 900) -> None:
        self.size, self.seconds = size, seconds
        self._items: OrderedDict[str, tuple[int, float, str]] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, user_id: int, html: str) -> str:
        token = secrets.token_urlsafe(16)
        with self._lock:
            self._items[token] = (user_id, time.monotonic(), html)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return token

    def get(self, user_id: int, token: str) -> str | None:
        with self._lock:
            item = self._items.get(token)
        if item is None or item[0] != user_id or time.monotonic() - item[1] > self.seconds:
            return None
        return item[2]


previews = PreviewStore()


@bp.get("/preview/<token>")
def preview(token: str) -> Any:
    """A rendered reply's HTML part, only for the sandboxed frame: nothing in it runs or loads."""
    html = previews.get(common.current_user().id, token)
    if html is None:
        abort(404, description="This preview has expired: check the template again.")
    return common.sandboxed_html(html)


def wrap(subject: str, body: str, to: str, sender: str = SENDER) -> bytes:
    """A minimal inquiry email around a subject and a body."""
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, to, subject
    msg["Message-ID"] = make_msgid(domain="try.invalid")
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg.set_content(body)
    return msg.as_bytes()


def looks_like_email(text: str) -> bool:
    """Whether pasted text starts with mail headers (``Name: value`` lines, one of them From or Subject)."""
    head = text.lstrip().split("\n\n", 1)[0].splitlines()[:40]
    names = [line.split(":", 1)[0].strip().lower() for line in head if ":" in line and not line[0].isspace()]
    return bool(head) and len(names) >= 2 and bool({"from", "subject"} & set(names))


def dry_packets(config: Config) -> PacketResolver:
    """Packet names and titles from the catalogue, with no PDF built, read or written."""
    catalogue: list[Any] = []

    def resolve(language: str, packet_id: str) -> tuple[str, str, bytes]:
        from bot import packets

        if not catalogue:
            catalogue.append(packets.load_catalogue(config.paths.replies))
        source = catalogue[0].packet(language, packet_id)
        return source.filename, source.title, b""

    return resolve


def render_reply(triage: Triage, rules: Rules, loader: TemplateLoader | None = None) -> Draft:
    """The reply the bot would write for ``triage``; raises what :func:`compose_reply` raises."""
    svc = common.services()
    return compose_reply(
        triage,
        config=svc.config,
        rules=rules,
        loader=loader or svc.template_loader(),
        packets=dry_packets(svc.config),
    )


@dataclass
class Tried:
    """What the page shows: the triage, and the reply or why there is none."""

    triage: Triage | None = None
    draft: Draft | None = None
    problem: str = ""
    preview: str = ""


def try_message(raw: bytes, rules: Rules) -> Tried:
    """Triage ``raw`` and compose its reply, with no side effects."""
    svc = common.services()
    out = Tried()
    try:
        out.triage = triage_message(parse_message(raw), TriageContext.from_config(svc.config, rules))
    except Exception as exc:  # noqa: BLE001 - shown to the admin, nothing else happens
        out.problem = f"The message could not be read: {exc}"
        return out
    if out.triage.action.value in ("draft", "escalate"):
        try:
            out.draft = render_reply(out.triage, rules)
            out.preview = previews.put(common.current_user().id, out.draft.html)
        except Exception as exc:  # noqa: BLE001
            out.problem = f"The reply could not be written: {type(exc).__name__}: {exc}"
    return out


def _posted_raw(config: Config) -> bytes | None:
    upload = request.files.get("eml")
    if upload is not None and upload.filename:
        return upload.read()
    pasted = request.form.get("raw", "").replace("\r\n", "\n").strip()
    if pasted and looks_like_email(pasted):
        return pasted.encode("utf-8")
    subject, body = request.form.get("subject", "").strip(), request.form.get("body", "").strip()
    body = body or pasted
    if not (subject or body):
        return None
    name = " ".join(request.form.get("sender_name", "").split())[:80].replace('"', "")
    return wrap(subject, body, config.organisation.address, f'"{name}" <{SENDER}>' if name else SENDER)


@bp.route("/try", methods=["GET", "POST"])
def tryit() -> Any:
    """The form; on POST also the language, topics, action, reasons and the reply."""
    svc = common.services()
    # From the rules editor ("Try a message with these rules") the rules come as its text field.
    rules_text = request.form.get("rules_text") or (
        request.form.get("text", "") if request.form.get("from_rules") else ""
    )
    tried, rules_problem = None, None
    rules = svc.rules.current()
    if rules_text:
        try:
            rules = parse_rules(rules_text.replace("\r\n", "\n"), "rules.yaml")
        except RulesError as exc:
            rules_problem = exc.problems
    if request.method == "POST" and not rules_problem and request.form.get("go"):
        raw = _posted_raw(svc.config)
        tried = try_message(raw, rules) if raw else Tried(problem="Write a subject or a message first.")
    return render_template(
        "editor_try.html",
        tried=tried,
        rules_text=rules_text,
        rules_problem=rules_problem,
        form=request.form,
        reasons=[
            common.split_reason(str(r)) for r in (tried.triage.reasons if tried and tried.triage else ())
        ],
    )
