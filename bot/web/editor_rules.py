"""The rules editor: ``/admin/rules`` (edit, check, dry run, save) on the ``editor`` blueprint.

Every button works as a plain form post; ``static/editor.js`` adds checking
as one types by posting to ``/admin/rules/check`` for JSON. The check is
:func:`bot.rules.parse_rules`, as ``rules check`` does; a text with problems
is never written (the page shows each problem's line) and the bot keeps the
rules it has. A save names the file version the page was opened on
(``base``): if the file changed since, the save is refused and both
versions are compared, so nobody overwrites another's change unseen.
"""

from __future__ import annotations

import re
from typing import Any

from flask import flash, jsonify, redirect, render_template, request, url_for

from bot import editing
from bot.rules import RuleProblem, RulesError, parse_rules
from bot.templates import topic_template
from bot.triage import TriageContext
from bot.web import common
from bot.web.dryrun import dry_run_corpus, dry_run_inquiries
from bot.web.editor import (
    actor,
    bp,
    changes_html,
    corpus_dir,
    diff,
    history_dir,
    posted_text,
    problem_dicts,
    wants_json,
)

DAY_CHOICES = (7, 30, 90, 365)
_TOPIC = re.compile(r"^\s*-\s+id:\s*([a-z][a-z0-9_]*)\s*$")


def topic_lines(text: str) -> list[tuple[str, int]]:
    """Each topic's id and the line it starts on, to jump to it in the editor."""
    found = (_TOPIC.match(line) for line in text.splitlines())
    return [(m[1], n) for n, m in enumerate(found, 1) if m]


def template_gaps(text: str) -> list[str]:
    """Topics with no reply section in some language: the bot could not write their reply."""
    try:
        rules = parse_rules(text, editing.RULES)
    except RulesError:
        return []
    svc = common.services()
    loader, langs = svc.template_loader(), sorted(svc.reply_languages())
    out = []
    for topic in rules.topics:
        name = (
            topic.template
            if "/" in topic.template
            else topic_template(topic.template.removesuffix(".txt.j2"))
        )
        missing = [common.LANGUAGE_NAMES.get(lang, lang) for lang in langs if not loader.has(name, lang)]
        if missing:
            out.append(f"“{topic.title}” has no reply section in {', '.join(missing)} ({name}).")
    return out


def _live_problem() -> RulesError | None:
    """Why the file on disk is not in use (the bot keeps the last good rules), or None."""
    live = common.services().rules
    try:
        live.current()
    except RulesError as exc:
        return exc
    return live.last_error


def _page(
    text: str | None = None,
    *,
    found: list[RuleProblem] | None = None,
    checked: bool = False,
    base: str | None = None,
    conflict: bool = False,
    note: str = "",
    status: int = 200,
) -> Any:
    svc = common.services()
    target = editing.rules_target(svc.config)
    state = editing.file_state(svc.store, target)
    text = state.text if text is None else text
    return render_template(
        "editor_rules.html",
        target=target,
        state=state,
        text=text,
        found=found or [],
        checked=checked,
        base=base or state.sha256,
        conflict=conflict,
        note=note,
        changes=diff(state.text, text),
        live_problem=_live_problem(),
        versions=editing.versions(svc.store, target),
        days=DAY_CHOICES,
        topic_lines=topic_lines(text),
        gaps=template_gaps(text),
    ), status


@bp.get("/rules")
def rules() -> Any:
    """The rules file in use, its history, and the editor."""
    return _page()


@bp.post("/rules/check")
def rules_check() -> Any:
    """Problems of the proposed rules (JSON for the page's script, else the page again)."""
    text, target = posted_text(), editing.rules_target(common.services().config)
    found = editing.problems(target, text)
    if wants_json():
        changes = diff(editing.file_state(common.services().store, target).text, text)
        return jsonify(ok=not found, problems=problem_dicts(found), changes=changes_html(changes))
    return _page(
        text, found=found, checked=True, base=request.form.get("base"), note=request.form.get("note", "")
    )


@bp.post("/rules/dry-run")
def rules_dry_run() -> Any:
    """What the proposed rules would change: recent inquiries and the test corpus, before and after."""
    svc = common.services()
    text = posted_text()
    base, note = request.form.get("base"), request.form.get("note", "")
    days = request.form.get("days", 30, type=int) or 30
    days = min(max(days, 1), 3650)
    try:
        proposed = parse_rules(text, editing.RULES)
    except RulesError as exc:
        return _page(text, found=exc.problems, checked=True, base=base, note=note, status=400)
    before = TriageContext.from_config(svc.config, svc.rules.current())
    after = TriageContext.from_config(svc.config, proposed)
    inquiries = dry_run_inquiries(svc.store, days, before, after)
    corpus = dry_run_corpus(corpus_dir(), before, after)
    return render_template(
        "editor_dryrun.html",
        text=text,
        base=base,
        note=note,
        days=days,
        day_choices=DAY_CHOICES,
        inquiries=inquiries,
        corpus=corpus,
        gaps=template_gaps(text),
        changes=diff(editing.file_state(svc.store, editing.rules_target(svc.config)).text, text),
    )


@bp.post("/rules/save")
def rules_save() -> Any:
    """Check and save; refused with the problems, or with both versions when the file changed meanwhile."""
    svc = common.services()
    target = editing.rules_target(svc.config)
    text, base, note = posted_text(), request.form.get("base") or None, request.form.get("note", "").strip()
    try:
        version = editing.save(
            svc.store,
            target,
            text,
            actor(),
            check=lambda t: editing.problems(target, t),
            note=note[:500],
            base_sha=base,
            history_dir=history_dir(),
        )
    except editing.SaveRefused as exc:
        return _page(text, found=exc.problems, checked=True, base=base, note=note, status=400)
    except editing.Conflict as exc:
        # Compared with what is there now; saving again replaces it knowingly.
        return _page(text, base=editing.sha256(exc.on_disk), conflict=True, note=note, status=409)
    if version is None:
        flash("Nothing changed: the rules are the same as the ones in use.")
    else:
        flash(f"Saved as version {version.id}. The bot uses the new rules from the next message it reads.")
    return redirect(url_for("editor.rules"))
