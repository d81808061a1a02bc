"""The template editor: ``/admin/templates`` on the ``editor`` blueprint.

Edits the reply files of each language (topic sections, both layouts,
``strings.yaml``, ``disclaimer.txt``; never the packet sources) with a preview
of the whole reply for a chosen stored inquiry, a pasted text, or a sample
message, always in the file's own language. The proposed text is rendered
from a temporary copy of the replies folder, so nothing is written until
Save. A save is refused unless the text passes
:meth:`bot.templates.TemplateLoader.render_check` and a real render of the
chosen message; the worker's Jinja loader picks up a saved file by itself.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from sqlalchemy import select

from bot import editing
from bot.compose import EXCLUSIVE_TOPICS
from bot.message import Draft, LanguageResult, TopicHit, TopicResult, Triage
from bot.parse import parse_message
from bot.rules import RuleProblem, Rules
from bot.store import Inquiry, InquiryState
from bot.templates import TemplateLoader
from bot.triage import TriageContext, triage_message
from bot.web import common
from bot.web.editor import (
    actor,
    bp,
    changes_html,
    diff,
    history_dir,
    posted_text,
    problem_dicts,
    wants_json,
)
from bot.web.tryit import previews, render_reply, wrap

SAMPLES = {
    "en": ("Dose and injections", "Hello, what dose of methylcobalamin should my husband take, and how?"),
    "es": ("Dosis e inyecciones", "Hola, ¿qué dosis de metilcobalamina debe tomar mi esposo, y cómo?"),
}


def recent_inquiries(limit: int = 40) -> list[Any]:
    """Recent inquiries to preview with: id, subject, language, received (no bodies)."""
    with common.services().store.session() as s:
        return list(
            s.execute(
                select(Inquiry.id, Inquiry.subject, Inquiry.language, Inquiry.received_at)
                .where(Inquiry.state != InquiryState.DUPLICATE.value)
                .order_by(Inquiry.received_at.desc(), Inquiry.id.desc())
                .limit(limit)
            ).all()
        )


def source_message(language: str, inquiry: str = "", pasted: str = "") -> bytes:
    """The message to preview with: pasted text, a stored inquiry, else the language's sample."""
    to = common.services().config.organisation.address
    if pasted.strip():
        return wrap("", pasted.strip(), to)
    if inquiry.isdigit():
        with common.services().store.session() as s:
            raw = s.scalar(select(Inquiry.raw).where(Inquiry.id == int(inquiry)))
        if raw:
            return raw
    return wrap(*SAMPLES.get(language, SAMPLES["en"]), to)


@contextmanager
def shadow_loader(target: editing.Target, text: str) -> Iterator[TemplateLoader]:
    """A loader over a temporary copy of the replies folder with ``text`` in place of the file."""
    svc = common.services()
    with tempfile.TemporaryDirectory(prefix="replies-preview-") as tmp:
        root = Path(tmp) / "replies"
        shutil.copytree(svc.config.paths.replies, root, ignore=shutil.ignore_patterns("packets"))
        (root / target.name.removeprefix("replies/")).write_text(text, encoding="utf-8")
        langs = svc.config.languages
        yield TemplateLoader(root, langs.default, list(langs.fallback))


def for_preview(triage: Triage, target: editing.Target, rules: Rules) -> tuple[Triage, list[str]]:
    """The triage in the file's language, with the edited topic's section in it; and what was changed."""
    notes, lang = [], target.language or "en"
    topics = list(triage.topic_ids)
    if target.kind == "topic":
        name = Path(target.name).name.removesuffix(".txt.j2")
        edited = [t.id for t in rules.topics if t.template in (name, f"topics/{name}.txt.j2")] or [name]
        if not set(edited) & set(topics):
            title = common.topic_name(edited[0])
            notes.append(f"This message did not ask about “{title}”; the section was added to show it.")
        keep = [t for t in topics if t not in edited and t not in EXCLUSIVE_TOPICS]
        topics = edited[:1] if edited[0] in EXCLUSIVE_TOPICS else [*edited[:1], *keep]
    elif not topics:
        topics = ["general_info"]
        notes.append("No topic matched this message; the general information section was used.")
    prio = {t.id: t.priority for t in rules.topics}
    hits = tuple(TopicHit(t, prio.get(t, 0)) for t in sorted(topics, key=lambda t: -prio.get(t, 0)))
    detected = triage.language.language if triage.language else lang
    language = LanguageResult(language=detected, reply_language=lang, evidence="editor")
    return replace(triage, topics=TopicResult(hits=hits), language=language), notes


def render_preview(
    target: editing.Target, text: str, inquiry: str = "", pasted: str = ""
) -> tuple[Draft | None, list[RuleProblem], list[str]]:
    """The whole reply with ``text`` in place of the file: (draft, problems, notes); nothing is written."""
    svc = common.services()
    rules = svc.rules.current()
    lang = target.language or "en"
    raw = source_message(lang, inquiry, pasted)
    try:
        triage = triage_message(parse_message(raw), TriageContext.from_config(svc.config, rules))
        triage, notes = for_preview(triage, target, rules)
        with shadow_loader(target, text) as loader:
            return render_reply(triage, rules, loader), [], notes
    except Exception as exc:  # noqa: BLE001 - the reason the reply cannot be written is the answer
        message = getattr(exc, "message", None) or str(exc)
        line = getattr(exc, "lineno", None) or 1
        return None, [RuleProblem(target.name, line, f"the reply cannot be written: {message}")], []


def template_checker(target: editing.Target, inquiry: str = "", pasted: str = "") -> editing.Checker:
    """The save check: compile and sample render, then a real render of the chosen message.

    English strings.yaml fills the gaps of every language, so it is rendered in each of them.
    """

    def check(text: str) -> list[RuleProblem]:
        found = editing.problems(target, text, common.services().template_loader())
        langs = [target.language]
        if target.kind == "strings" and target.language == "en":
            langs += sorted(common.services().reply_languages() - {"en"})
        for lang in langs if not found else ():
            found += render_preview(replace(target, language=lang), text, inquiry, pasted)[1]
        return found

    return check


def _target(name: str) -> editing.Target:
    try:
        target = editing.find_target(common.services().config, name)
    except KeyError:
        abort(404, description="There is no such template.")
    if target.kind == "rules":
        abort(404, description="The rules are edited on their own page.")
    return target


@bp.get("/templates")
def templates() -> Any:
    """Every reply file, by language, with a mark on those changed outside the web app."""
    svc = common.services()
    files = [(t, editing.file_state(svc.store, t)) for t in editing.template_targets(svc.config)]
    return render_template("editor_templates.html", files=files)


def _page(target: editing.Target, text: str | None = None, *, status: int = 200, **extra: Any) -> Any:
    """The editor with ``text`` (the file by default), its problems, its diff and its preview."""
    svc = common.services()
    state = editing.file_state(svc.store, target)
    text = state.text if text is None else text
    inquiry, pasted = request.values.get("inquiry", ""), request.values.get("pasted", "")
    draft, found, notes = render_preview(target, text, inquiry, pasted)
    found = editing.problems(target, text, svc.template_loader()) or found
    return render_template(
        "editor_template.html",
        target=target,
        state=state,
        text=text,
        found=found,
        draft=draft,
        notes=notes,
        preview=previews.put(common.current_user().id, draft.html) if draft else "",
        inquiry=inquiry,
        pasted=pasted,
        inquiries=recent_inquiries(),
        changes=diff(state.text, text),
        versions=editing.versions(svc.store, target),
        base=extra.pop("base", None) or request.form.get("base") or state.sha256,
        note=request.form.get("note", ""),
        **extra,
    ), status


@bp.get("/templates/edit")
def template_edit() -> Any:
    return _page(_target(request.args.get("name", "")))


@bp.post("/templates/check")
def template_check() -> Any:
    """Problems, and the reply as it would be, for the proposed text (JSON for the script)."""
    target, text = _target(request.form.get("name", "")), posted_text()
    if not wants_json():
        return _page(target, text, checked=True)
    found = editing.problems(target, text, common.services().template_loader())
    draft, more, notes = render_preview(
        target, text, request.form.get("inquiry", ""), request.form.get("pasted", "")
    )
    found = found or more
    token = previews.put(common.current_user().id, draft.html) if draft and not found else ""
    changes = diff(editing.file_state(common.services().store, target).text, text)
    return jsonify(
        ok=not found,
        problems=problem_dicts(found),
        text=draft.text if draft and not found else "",
        subject=draft.subject if draft and not found else "",
        notes=notes,
        preview=url_for("editor.preview", token=token) if token else "",
        changes=changes_html(changes),
    )


@bp.post("/templates/save")
def template_save() -> Any:
    target, text = _target(request.form.get("name", "")), posted_text()
    inquiry, pasted = request.form.get("inquiry", ""), request.form.get("pasted", "")
    svc = common.services()
    try:
        version = editing.save(
            svc.store,
            target,
            text,
            actor(),
            check=template_checker(target, inquiry, pasted),
            note=request.form.get("note", "").strip()[:500],
            base_sha=request.form.get("base") or None,
            history_dir=history_dir(),
        )
    except editing.SaveRefused:
        return _page(target, text, checked=True, status=400)
    except editing.Conflict as exc:
        return _page(target, text, conflict=True, base=editing.sha256(exc.on_disk), status=409)
    if version is None:
        flash("Nothing changed: the template is the same as the one in use.")
    else:
        flash(f"Saved as version {version.id}. The next reply the bot writes uses it.")
    return redirect(url_for("editor.template_edit", name=target.name, inquiry=inquiry or None))
