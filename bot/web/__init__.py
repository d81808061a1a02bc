"""The staff review web app: Flask, server-rendered pages, served by waitress.

``create_app(config, services=None)`` follows the Flask tutorial's app
factory: it takes the bot's :class:`~bot.config.Config` (and, in tests,
ready-made services) and returns a configured app. Every page except the
login page needs a signed-in account; every POST needs the session's CSRF
token; admin pages refuse staff accounts. Flask settings can be overridden
with ``BOT_WEB_<NAME>`` environment variables (for example
``BOT_WEB_SESSION_COOKIE_SECURE=true`` behind an HTTPS proxy on loopback)
or the ``settings`` argument.
"""

from __future__ import annotations

import ipaddress
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask, g, redirect, render_template, request, session, url_for
from werkzeug.exceptions import HTTPException

from bot.config import Config
from bot.web import common, security

# Endpoints anyone may reach: the login form and the style sheet it uses.
PUBLIC_ENDPOINTS = frozenset({"auth.login", "static", "health.healthz", "health.metrics"})

# Inline SVG charts need no styles of their own (presentation attributes), so
# styles and scripts come only from /static. The reply preview frame gets its
# own, stricter policy in the inquiry blueprint.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def create_app(config: Config, services: Any = None, *, settings: dict[str, Any] | None = None) -> Flask:
    """The staff web app for ``config``; ``services`` are built from it when not given."""
    if services is None:
        from bot.services import build_services

        services = build_services(config)
    app = Flask(__name__)
    app.config.update(
        SESSION_COOKIE_NAME="helpdesk_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # A cookie marked Secure is never sent over plain http, which is all a
        # loopback-only server speaks; anywhere else it must be https.
        SESSION_COOKIE_SECURE=not is_loopback(config.web.host),
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
        SECRET_KEY_FILE=str(Path("var") / "web_secret_key"),
        LOGIN_LIMIT=5,
        LOGIN_WINDOW_SECONDS=15 * 60,
        QUEUE_PAGE_SIZE=50,
    )
    app.config.from_prefixed_env("BOT_WEB")
    app.config.update(settings or {})
    app.secret_key = security.load_secret_key(config.web.secret_key, Path(app.config["SECRET_KEY_FILE"]))
    app.extensions[common.EXTENSION] = {
        "services": services,
        "limiter": security.LoginLimiter(app.config["LOGIN_LIMIT"], app.config["LOGIN_WINDOW_SECONDS"]),
    }
    _register_hooks(app)
    _register_templates(app)
    from bot.packets import PACKET_IDS

    app.jinja_env.globals["packet_ids"] = PACKET_IDS

    from bot.web import actions, admin, auth, dashboard, editor, health, inquiry, queue

    for module in (auth, queue, inquiry, actions, dashboard, admin, editor, health):
        app.register_blueprint(module.bp)
    app.add_url_rule("/", "index", lambda: redirect(url_for("queue.index")))
    return app


def _register_hooks(app: Flask) -> None:
    @app.before_request
    def _guard() -> Any:
        # CSRF first: a forged POST is refused even to a signed-in user.
        security.check_csrf()
        if request.endpoint == "static":  # the style sheet and script need no account lookup
            return None
        g.user = auth_user()
        if g.user is None and request.endpoint not in PUBLIC_ENDPOINTS:
            if request.method == "GET":
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            return redirect(url_for("auth.login"))
        return None

    @app.after_request
    def _headers(response: Any) -> Any:
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        if request.endpoint != "static":
            # Pages hold people's health questions: never keep them in a shared cache.
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.errorhandler(HTTPException)
    def _error(exc: HTTPException) -> Any:
        # Only our own descriptions are shown: Werkzeug's defaults are written for developers.
        detail = exc.description if exc.description != type(exc).description else None
        return render_template("error.html", error=exc, detail=detail), exc.code or 500


def auth_user() -> Any:
    """The account of this session, or None; a changed password ends older sessions."""
    user_id = session.get("user_id")
    if user_id is None:
        return None
    from bot.store.users import User

    with common.services().store.session() as s:
        user = s.get(User, user_id)
    if user is None or session.get("stamp") != auth_stamp(user.password_hash):
        session.clear()
        return None
    return user


def auth_stamp(password_hash: str) -> str:
    """A short fingerprint of the password hash kept in the session cookie."""
    import hashlib

    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def _register_templates(app: Flask) -> None:
    app.jinja_env.globals.update(
        csrf_token=security.csrf_token,
        current_user=common.current_user,
        STATE_LABELS=common.STATE_LABELS,
        REPLY_LABELS=common.REPLY_LABELS,
        LANGUAGE_NAMES=common.LANGUAGE_NAMES,
        ACTION_LABELS=common.ACTION_LABELS,
    )
    app.jinja_env.filters.update(
        when=common.format_when,
        ago=common.format_ago,
        topic_name=common.topic_name,
        language_name=lambda code: common.LANGUAGE_NAMES.get(code or "", code or "unknown"),
    )
