"""The rules and template editors (admins only): shared pieces and the version pages.

One blueprint, ``editor``, under ``/admin``; its routes live in
:mod:`bot.web.editor_rules` (``/admin/rules...``),
:mod:`bot.web.editor_templates` (``/admin/templates...``) and
:mod:`bot.web.tryit` (``/admin/try``), imported at the bottom so that they
register on it. Every route refuses staff with 403 and every POST needs the
CSRF token (the app checks it before any view runs).

Here: the version pages (``/admin/versions/<id>``, its rollback, and taking a
hand edit as a new version, ``/admin/adopt``), the diff every page shows,
and the page policy that lets ``static/editor.js`` call back. App settings: ``EDITOR_HISTORY_DIR`` (copies of
every version, default ``var/history``) and ``EDITOR_CORPUS_DIR`` (the corpus
of the dry run, default the repository's ``tests/corpus``).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    get_template_attribute,
    redirect,
    render_template,
    request,
    url_for,
)

from bot import editing
from bot.rules import RuleProblem
from bot.store.versions import get_any
from bot.web import common

bp = Blueprint("editor", __name__, url_prefix="/admin")
REPO = Path(__file__).resolve().parents[2]
# The audit log reads these as sentences (the shared table knows only the queue's actions).
common.ACTION_LABELS.update(
    {
        "rules_saved": "saved the reply rules",
        "rules_rollback": "restored an earlier version of the reply rules",
        "rules_adopted": "took a hand edit of the reply rules as a new version",
        "template_saved": "saved a reply template",
        "template_rollback": "restored an earlier version of a reply template",
        "template_adopted": "took a hand edit of a reply template as a new version",
    }
)
# What the bot does with a message, in the words an admin uses.
ACTION_WORDS = {
    "draft": "Write a reply for staff to approve",
    "escalate": "Urgent: staff see it first; the bot does not answer alone",
    "manual": "No topic matched: a person answers",
    "ignore": "Ignored: sent by a machine, or nothing to answer",
}


@bp.record_once
def _page_names(state: Any) -> None:
    # Globals, not a context processor: the shared macros are imported without context.
    state.app.jinja_env.globals.update(ACTION_WORDS=ACTION_WORDS)


@bp.after_request
def _csp(response: Response) -> Response:
    # The app's policy, plus fetch() to this site: editor.js checks the text while one types.
    from bot.web import CSP

    response.headers.setdefault("Content-Security-Policy", CSP + "; connect-src 'self'")
    return response


@bp.context_processor
def _history_path() -> dict[str, Any]:
    return {"history_path": str(history_dir())}


@bp.before_request
@common.admin_required
def _admins_only() -> None:
    return None


def history_dir() -> Path:
    return Path(current_app.config.get("EDITOR_HISTORY_DIR") or "var/history")


def corpus_dir() -> Path:
    return Path(current_app.config.get("EDITOR_CORPUS_DIR") or REPO / "tests" / "corpus")


def actor() -> str:
    return common.current_user().username


def wants_json() -> bool:
    """The page's script asks for JSON; a plain form post gets a page."""
    return request.accept_mimetypes.best == "application/json"


def posted_text() -> str:
    return editing.normalise_text(request.form.get("text", ""))


def problem_dicts(found: list[RuleProblem]) -> list[dict[str, Any]]:
    return [{"file": p.file, "line": p.line, "message": p.message} for p in found]


@dataclass(frozen=True)
class DiffLine:
    """One line of a unified diff: ``kind`` is add, del, same or hunk; numbers are 1-based."""

    kind: str
    text: str
    old: int | None = None
    new: int | None = None


def diff(old: str, new: str, context: int = 3) -> list[DiffLine]:
    """The changes from ``old`` to ``new`` (empty when equal); escaped by the page, like any text."""
    out: list[DiffLine] = []
    o = n = 0
    for line in list(difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=context))[2:]:
        if line.startswith("@@"):
            m = re.match(r"@@ -(\d+)(?:,\d+)? \+(\d+)", line)
            o, n = (int(m[1]), int(m[2])) if m else (0, 0)
            out.append(DiffLine("hunk", f"Around line {n}"))
        elif line.startswith("-"):
            out.append(DiffLine("del", line[1:], old=o))
            o += 1
        elif line.startswith("+"):
            out.append(DiffLine("add", line[1:], new=n))
            n += 1
        else:
            out.append(DiffLine("same", line[1:], old=o, new=n))
            o, n = o + 1, n + 1
    return out


def changes_html(changes: list[DiffLine]) -> str:
    """The diff table as the page shows it (escaped by the template), for the script to put in place."""
    macro = get_template_attribute("editor_macros.html", "diff_table")
    return str(macro(changes, "You have not changed anything yet."))


def checker(target: editing.Target) -> editing.Checker:
    """The check a save of ``target`` must pass: the file's own, plus a real render for templates."""
    if target.kind == "rules":
        return lambda text: editing.problems(target, text)
    from bot.web.editor_templates import template_checker

    return template_checker(target)


def edit_url(target: editing.Target) -> str:
    if target.kind == "rules":
        return url_for("editor.rules")
    return url_for("editor.template_edit", name=target.name)


def _target(name: str) -> editing.Target:
    try:
        return editing.find_target(common.services().config, name)
    except KeyError:
        abort(404, description="There is no such file to edit.")


@bp.get("/versions/<int:version_id>")
def version(version_id: int) -> Any:
    """One saved version, and what restoring it would change in the file in use."""
    store = common.services().store
    v = get_any(store, version_id)
    if v is None:
        abort(404, description="There is no such version.")
    target = _target(v.path)
    state = editing.file_state(store, target)
    return render_template(
        "editor_version.html",
        v=v,
        target=target,
        edit_url=edit_url(target),
        changes=diff(state.text, v.content),
        current=state.sha256 == v.sha256,
    )


@bp.post("/versions/<int:version_id>/rollback")
def rollback(version_id: int) -> Any:
    """Restore a version: saved again as the newest version, checked like any save."""
    svc = common.services()
    v = get_any(svc.store, version_id)
    if v is None:
        abort(404, description="There is no such version.")
    target = _target(v.path)
    try:
        new = editing.rollback(
            svc.store, target, v.id, actor(), check=checker(target), history_dir=history_dir()
        )
    except editing.SaveRefused as exc:
        flash(f"Version {v.id} cannot be restored: {exc.problems[0]}", "error")
        return redirect(url_for("editor.version", version_id=v.id))
    if new is None:
        flash(f"Version {v.id} is already the one in use: nothing changed.")
    else:
        flash(
            f"Version {v.id} is restored (saved as version {new.id}). The bot uses it from the next message."
        )
    return redirect(edit_url(target))


@bp.post("/adopt")
def adopt() -> Any:
    """Take the file as changed outside the web app as a new version."""
    svc = common.services()
    target = _target(request.form.get("name", ""))
    try:
        new = editing.adopt(svc.store, target, actor(), check=checker(target), history_dir=history_dir())
    except editing.SaveRefused as exc:
        flash(f"The file on disk has problems and was not recorded: {exc.problems[0]}", "error")
        return redirect(edit_url(target))
    flash(
        "Nothing to record: the file matches its latest version."
        if new is None
        else f"Recorded as version {new.id}."
    )
    return redirect(edit_url(target))


from bot.web import editor_rules, editor_templates, tryit  # noqa: E402,F401  - routes register on bp
