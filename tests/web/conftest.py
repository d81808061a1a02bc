"""Fixtures for the staff web app: an app on a temp SQLite database, accounts, seeded inquiries.

These tests need no mail servers: the app is made with ``create_app`` on a
config whose mailbox is a temp Maildir, and rows are written with SQLAlchemy.
The browser test (test_browser.py) uses the real-server fixtures of
tests/conftest.py instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import make_msgid
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from bot.config import Config, parse_config
from bot.disclaimer import append_disclaimer, load_disclaimer
from bot.services import LiveRules, Services
from bot.store import Inquiry, Reply, Store
from bot.store.users import User
from bot.web import create_app
from bot.web.security import hash_password

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery"


def web_config(tmp_path: Path, database_url: str | None = None, **web: Any) -> Config:
    """A config on a temp database (SQLite unless given) and Maildir, with the repo's rules and replies."""
    return parse_config(
        {
            "organisation": {
                "name": "ALS Worldwide",
                "address": "support@example.org",
                "reply_name": "ALS Worldwide support team",
            },
            "mailbox": {"kind": "maildir", "maildir": str(tmp_path / "maildir")},
            "smtp": {"host": "127.0.0.1", "port": 1, "security": "none"},
            "database": {"url": database_url or f"sqlite:///{tmp_path / 'bot.db'}"},
            "paths": {
                "rules": str(REPO / "rules.yaml"),
                "replies": str(REPO / "replies"),
                "packets": str(tmp_path / "packets"),
            },
            "web": {"host": "127.0.0.1", "port": 8080, "secret_key": "test-secret", **web},
        },
        environ={},
    )


@pytest.fixture(autouse=True)
def _cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Still argon2id, at test-sized cost: production pays it once per login, tests log in often."""
    from argon2 import PasswordHasher

    from bot.web import security

    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(security, "_hasher", cheap)
    monkeypatch.setattr(security, "_DUMMY_HASH", cheap.hash("dummy"))


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return web_config(tmp_path)


@pytest.fixture
def services(config: Config) -> Services:
    # The real Services; the rules load lazily, when a page first needs them.
    svc = Services(config=config, store=Store(config.database.url), rules=LiveRules(config.paths.rules))
    yield svc
    svc.close()


@pytest.fixture
def app(config: Config, services: Services, tmp_path: Path) -> Flask:
    app = create_app(config, services, settings={"TESTING": True, "SECRET_KEY_FILE": str(tmp_path / "key")})
    return app


@pytest.fixture
def make_user(services: Services) -> Callable[..., User]:
    def make(name: str, role: str = "staff", password: str = PASSWORD) -> User:
        with services.store.session() as s:
            user = User(username=name, role=role, password_hash=hash_password(password))
            s.add(user)
        return user

    return make


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def login(client: FlaskClient, name: str, password: str = PASSWORD) -> Any:
    token = csrf_from(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"username": name, "password": password, "csrf_token": token})


def post(client: FlaskClient, url: str, data: dict[str, Any] | None = None, page: str = "/queue") -> Any:
    """POST a form the way a browser does: with the CSRF token from a page."""
    token = csrf_from(client.get(page).get_data(as_text=True))
    return client.post(url, data={**(data or {}), "csrf_token": token})


def act(client: FlaskClient, inquiry_id: int, action: str, data: dict[str, Any] | None = None) -> Any:
    """POST an inquiry action from its page: with the CSRF token and the reply's fingerprint it showed."""
    page = client.get(f"/inquiry/{inquiry_id}").get_data(as_text=True)
    seen = re.search(r'name="seen" value="([^"]*)"', page)
    form = {"csrf_token": csrf_from(page), "seen": seen.group(1) if seen else "", **(data or {})}
    return client.post(f"/inquiry/{inquiry_id}/{action}", data=form)


@pytest.fixture
def staff(app: Flask, make_user: Callable[..., User]) -> FlaskClient:
    make_user("sam")
    client = app.test_client()
    assert login(client, "sam").status_code == 302
    return client


@pytest.fixture
def admin(app: Flask, make_user: Callable[..., User]) -> FlaskClient:
    make_user("ada", role="admin")
    client = app.test_client()
    assert login(client, "ada").status_code == 302
    return client


def reply_raw(
    text: str = "Dear Maria,\n\nThe usual dose is described in the leaflet.\n\nALS Worldwide support team",
    language: str = "en",
    to: str = "maria@example.com",
    with_pdf: bool = True,
) -> tuple[bytes, str, str, str]:
    """A reply shaped like the composer's: (raw, message_id, text, html), disclaimer included."""
    disclaimer = load_disclaimer(REPO / "replies", language) or "Not medical advice."
    html = "<html><body><p>" + text.replace("\n", "<br>") + "</p></body></html>"
    text, html = append_disclaimer(text, html, disclaimer, language)
    msg = EmailMessage()
    mid = make_msgid(domain="example.org")
    msg["From"] = "ALS Worldwide support team <support@example.org>"
    msg["To"] = to
    msg["Subject"] = "Re: Dose question"
    msg["Message-ID"] = mid
    msg["In-Reply-To"] = "<q1@example.com>"
    msg.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    msg.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    if with_pdf:
        msg.add_attachment(
            b"%PDF-1.4 packet", maintype="application", subtype="pdf", filename="injection.pdf"
        )
    # After the parts: set_content and add_alternative move Content-* headers into the parts.
    msg["Content-Language"] = language
    return msg.as_bytes(policy=SMTP), mid, text, html


def inquiry_raw(
    body: str = "Hello, what dose should my husband take?",
    html: str | None = None,
    subject: str = "Dose question",
    sender: str = "Maria Lopez <maria@example.com>",
    message_id: str | None = None,
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "support@example.org"
    msg["Subject"] = subject
    msg["Message-ID"] = message_id or make_msgid(domain="example.com")
    msg["Date"] = "Wed, 25 Nov 2026 10:00:00 +0000"
    msg.set_content(body)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    return msg.as_bytes()


_uid = iter(range(1, 10**9))


def add_inquiry(
    services: Services,
    *,
    state: str = "drafted",
    raw: bytes | None = None,
    reply: bool = True,
    reply_state: str = "draft",
    received_at: datetime | None = None,
    **fields: Any,
) -> int:
    """Insert an inquiry (and a drafted reply) directly; returns its id."""
    raw = raw or inquiry_raw()
    uid = next(_uid)
    values: dict[str, Any] = {
        "source": "maildir:test",
        "uidvalidity": 1,
        "uid": uid,
        "message_id": f"<m{uid}@example.com>",
        "content_hash": f"{uid:064d}",
        "raw": raw,
        "received_at": received_at or datetime.now(UTC) - timedelta(hours=1),
        "from_address": "maria@example.com",
        "from_name": "Maria Lopez",
        "subject": "Dose question",
        "language": "en",
        "reply_language": "en",
        "topics": ["dosage"],
        "action": "draft",
        "reasons": ["language/langdetect: English (0.99)", "topics/dosage: matched 'dose'"],
        "state": state,
        "urgent": False,
    }
    values.update(fields)
    with services.store.session() as s:
        inq = Inquiry(**values)
        s.add(inq)
        if reply:
            rraw, mid, text, html = reply_raw()
            inq.replies.append(
                Reply(
                    message_id=mid,
                    state=reply_state,
                    to_address="maria@example.com",
                    subject="Re: Dose question",
                    text=text,
                    html=html,
                    language="en",
                    packets=["injection_information"],
                    notes=[],
                    raw=rraw,
                )
            )
        s.flush()
        return inq.id


CHROMIUM = "/usr/bin/chromium"
# Debian's Chromium as root, headless, with nothing reaching out of this closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture
def browser() -> Iterator[Any]:
    """Headless Debian Chromium driven by Playwright; fails (never skips) when either is missing."""
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is not installed: apt-get install chromium (.ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """``app`` served by waitress on a free loopback port for the ``with`` block; yields its base URL."""
    import threading

    import waitress

    from tests.servers import free_port

    port = free_port()
    server = waitress.create_server(app, host="127.0.0.1", port=port, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        # Closed from inside its own loop: closing from this thread races the loop's select().
        server.trigger.pull_trigger(server.close)
        thread.join(timeout=10)
