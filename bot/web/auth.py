"""Signing in and out, and changing one's own password.

Login is rate-limited per username and per client address (5 failures in
15 minutes by default): a limited login is refused with 429 and a clear
message, even when the password is right, so guessing cannot go on.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from sqlalchemy import func, select

from bot.store.users import User
from bot.web import common, security

log = logging.getLogger(__name__)
bp = Blueprint("auth", __name__)

LIMITED = (
    "Too many failed sign-in attempts. For your safety, signing in is paused for 15 minutes. "
    "If you have forgotten your password, ask an administrator to reset it."
)


def _safe_next(target: str | None) -> str:
    """Only a path on this site: an open redirect would help phishing."""
    if not target:
        return url_for("queue.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("queue.index")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if common.current_user() is not None and request.method == "GET":
        return redirect(_safe_next(request.args.get("next")))
    if request.method == "GET":
        return render_template("login.html", next=request.args.get("next", ""))
    username = request.form.get("username", "").strip().lower()
    password = request.form.get("password", "")
    keys = (f"user:{username}", f"ip:{request.remote_addr}")
    limiter: security.LoginLimiter = current_app.extensions[common.EXTENSION]["limiter"]
    if limiter.blocked(*keys):
        log.warning("login refused: rate limit", extra={"event": "login_limited"})
        return render_template("login.html", error=LIMITED, next=request.form.get("next", "")), 429
    with common.services().store.session() as s:
        user = s.scalar(select(User).where(func.lower(User.username) == username)) if username else None
        ok = security.verify_password(user.password_hash if user else None, password)
        if ok and user is not None:
            if security.needs_rehash(user.password_hash):
                user.password_hash = security.hash_password(password)
            user.last_login_at = datetime.now(UTC)
            user_id, stamp = user.id, _stamp(user.password_hash)
    if not ok:
        limiter.fail(*keys)
        log.info("login failed", extra={"event": "login_failed"})
        return render_template(
            "login.html",
            error="That username and password do not match. Please try again.",
            next=request.form.get("next", ""),
        ), 401
    limiter.reset(keys[0])
    # A fresh session on login: a session id planted before login is worth nothing.
    session.clear()
    session.permanent = True
    session["user_id"], session["stamp"] = user_id, stamp
    security.csrf_token()
    return redirect(_safe_next(request.form.get("next")))


def _stamp(password_hash: str) -> str:
    from bot.web import auth_stamp

    return auth_stamp(password_hash)


@bp.post("/logout")
def logout() -> Any:
    session.clear()
    flash("You are signed out.")
    return redirect(url_for("auth.login"))


@bp.route("/account", methods=["GET", "POST"])
def account() -> Any:
    """Change one's own password: the current one, then the new one twice."""
    if request.method == "GET":
        return render_template("account.html")
    current = request.form.get("current", "")
    new, again = request.form.get("new", ""), request.form.get("again", "")
    problem = security.password_problem(new)
    if new != again:
        problem = "The two new passwords are not the same."
    with common.services().store.session() as s:
        user = s.get(User, common.current_user().id)
        if not security.verify_password(user.password_hash, current):
            problem = "Your current password is not right."
        if problem:
            s.rollback()
            return render_template("account.html", error=problem), 400
        user.password_hash = security.hash_password(new)
        session["stamp"] = _stamp(user.password_hash)
    flash("Your password is changed.")
    return redirect(url_for("auth.account"))
