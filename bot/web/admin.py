"""Admin pages: the audit log of every action, and the staff accounts.

Every route here refuses staff accounts with 403 (:func:`common.admin_required`
runs before each request of this blueprint). The rules and template editors
are the ``editor`` blueprint (:mod:`bot.web.editor`), under ``/admin`` too.
"""

from __future__ import annotations

import math
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select

from bot.store import AuditEntry
from bot.store.users import Role, User
from bot.web import common, security

bp = Blueprint("admin", __name__, url_prefix="/admin")
PAGE = 100


@bp.before_request
@common.admin_required
def _admins_only() -> None:
    return None


@bp.get("/")
def index() -> Any:
    return redirect(url_for("admin.audit"))


@bp.get("/audit")
def audit() -> Any:
    """Every action by everyone, newest first; filter by who did it."""
    actor = request.args.get("actor", "").strip()
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    with common.services().store.session() as s:
        conds = [AuditEntry.actor == actor] if actor else []
        total = s.scalar(select(func.count()).select_from(AuditEntry).where(*conds)) or 0
        pages = max(math.ceil(total / PAGE), 1)
        page = min(page, pages)
        entries = list(
            s.scalars(
                select(AuditEntry)
                .where(*conds)
                .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
                .limit(PAGE)
                .offset((page - 1) * PAGE)
            )
        )
        actors = list(s.scalars(select(AuditEntry.actor).distinct().order_by(AuditEntry.actor)))
    return render_template(
        "admin_audit.html", entries=entries, actor=actor, actors=actors, page=page, pages=pages, total=total
    )


@bp.route("/users", methods=["GET", "POST"])
def users() -> Any:
    """The staff accounts; an admin can add one here (as with ``run.py users add``)."""
    error = None
    if request.method == "POST":
        name = request.form.get("username", "").strip().lower()
        role = request.form.get("role", Role.STAFF.value)
        password = request.form.get("password", "")
        error = user_problem(name, role, password)
        if error is None:
            with common.services().store.session() as s:
                if s.scalar(select(User.id).where(func.lower(User.username) == name)) is not None:
                    error = f"There is already an account called {name}."
                else:
                    s.add(User(username=name, role=role, password_hash=security.hash_password(password)))
        if error is None:
            flash(f"The account {name} was added. Give them their password in person or by phone.")
            return redirect(url_for("admin.users"))
    with common.services().store.session() as s:
        accounts = list(s.scalars(select(User).order_by(User.username)))
    return render_template("admin_users.html", accounts=accounts, error=error, roles=list(Role)), (
        400 if error else 200
    )


def user_problem(name: str, role: str, password: str) -> str | None:
    """Why a new account is refused, in plain words, or None."""
    if not name or len(name) > 100 or not all(c.isalnum() or c in "._-@" for c in name):
        return "A username may use letters, digits and . _ - @ only (up to 100 characters)."
    if role not in set(Role):
        return "Choose a role: staff or admin."
    return security.password_problem(password)
