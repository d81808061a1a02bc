"""The staff web app in a real browser, end to end: from a patient's email to the reply in their inbox.

Dovecot and the SMTP relay (tests/conftest.py) run on loopback; inquiries
are delivered to the support inbox and fetched with ``fetch_once`` as the
worker would; the app is served by waitress on a free loopback port; headless
Chromium (Debian's, no download) signs in, edits, approves and sends. Each
test saves screenshots of the pages it saw in its temp dir.
"""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from bot.config import parse_config
from bot.store.users import User
from bot.web import create_app
from bot.web.security import hash_password
from tests.web.conftest import serving
from tests.web.test_inquiry_page import HOSTILE_HTML

pytestmark = pytest.mark.e2e

MAIL = Path(__file__).resolve().parents[1] / "e2e" / "mail"
PASSWORD = "a long test password"


@dataclass
class Served:
    url: str
    services: Any
    shots: Path


def hostile_mail() -> bytes:
    msg = EmailMessage()
    msg["From"] = "Mallory <mallory@example.net>"
    msg["To"] = "support@example.org"
    msg["Subject"] = "Dose question with pictures"
    msg["Message-ID"] = "<hostile-1@example.net>"
    msg.set_content("Hello, what dose should I take each day?")
    msg.add_alternative(HOSTILE_HTML, subtype="html")
    return msg.as_bytes()


@pytest.fixture
def served(dovecot, smtp_relay, tmp_config, tmp_path) -> Iterator[Served]:
    from bot.fetch import fetch_once
    from bot.services import build_services

    config = parse_config(tmp_config(), environ={})
    services = build_services(config)
    dovecot.deliver("support@example.org", (MAIL / "english_dosage_question.eml").read_bytes())
    dovecot.deliver("support@example.org", hostile_mail())
    report = fetch_once(services)
    assert "2 drafted" in report.summary(), report.summary()
    with services.store.session() as s:
        s.add(User(username="ada", role="admin", password_hash=hash_password(PASSWORD)))
        s.add(User(username="sam", role="staff", password_hash=hash_password(PASSWORD)))
    app = create_app(config, services, settings={"SECRET_KEY_FILE": str(tmp_path / "key")})
    shots = tmp_path / "screenshots"
    shots.mkdir()
    try:
        with serving(app) as url:
            yield Served(url, services, shots)
    finally:
        services.close()


def sign_in(browser, served: Served, name: str) -> Any:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(served.url + "/queue")
    assert page.url.startswith(served.url + "/login")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(served.url + "/queue")
    return page


def test_staff_edit_approve_and_send_reaches_the_patient(served, browser, dovecot, smtp_relay) -> None:
    page = sign_in(browser, served, "ada")
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    assert page.locator("h1").inner_text() == "Queue"
    assert page.locator("tr[data-row]").count() == 2
    page.screenshot(path=served.shots / "queue.png", full_page=True)

    # j selects the first row, Enter opens it (keyboard shortcuts for the common path).
    page.keyboard.press("j")
    assert page.locator("tr.selected").count() == 1
    page.click("text=Question about the B12 injections for my husband")
    page.wait_for_url("**/inquiry/*")
    assert "dosage" in page.locator("dl.facts").first.inner_text()
    assert "What dose should he take" in page.locator(".message-text").first.inner_text()
    page.screenshot(path=served.shots / "inquiry.png", full_page=True)

    page.keyboard.press("e")  # opens the editor and focuses it
    editor = page.locator("#edit-text")
    assert editor.is_visible()
    original = editor.input_value()
    added = "We are thinking of you both, and we are glad you wrote."
    edited = original.replace("\n\n", f"\n\n{added}\n\n", 1)
    editor.fill(edited)
    page.click("text=Save the changes")
    page.wait_for_selector("text=Your changes to the reply are saved.")
    assert added in page.locator("#reply-text").inner_text()

    page.click("#approve-send-button")
    page.wait_for_selector("text=the reply is approved and sent")
    [received] = smtp_relay.wait_for(1)
    assert received.rcpt_tos == ("patient@example.com",)
    [(_, _, raw)] = dovecot.wait_for_messages("patient@example.com", 1)
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    text = msg.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert added in text and added in msg.get_body(("html",)).get_content()
    assert "we do not give medical advice" in " ".join(text.split())
    assert [a.get_filename() for a in msg.iter_attachments()]  # the packets went with it
    assert dialogs == []

    # The inquiry shows who did what.
    page.goto(served.url + "/queue?state=answered")
    page.click("text=Question about the B12 injections for my husband")
    log = page.locator("ol.log").inner_text()
    assert "ada edited the reply text" in log and "ada approved the reply" in log and "sent the reply" in log


def test_hostile_html_stays_inert_in_the_browser(served, browser) -> None:
    page = sign_in(browser, served, "sam")
    dialogs: list[str] = []
    outside: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(served.url) else None)
    page.click("text=Dose question with pictures")
    page.wait_for_url("**/inquiry/*")
    page.click("text=Formatted version (pictures from the internet are not loaded)")
    html = page.locator(".message-html")
    assert html.is_visible() and "dose" in html.inner_text()
    page.click("text=Formatted version, as most email programs will show it")
    page.wait_for_timeout(500)
    page.mouse.move(300, 300)
    assert page.evaluate("typeof window.__pwned") == "undefined"
    active = ".message-html script, .message-html [onerror], .message-html [onmouseover]"
    assert page.evaluate(f"document.querySelectorAll('{active}').length") == 0
    # The reply preview frame is sandboxed: no scripts, no same-origin access.
    assert page.locator("iframe.reply-html").get_attribute("sandbox") == ""
    assert dialogs == [] and outside == []
    page.screenshot(path=served.shots / "hostile.png", full_page=True)


def test_staff_cannot_reach_admin_pages(served, browser) -> None:
    page = sign_in(browser, served, "sam")
    assert page.locator("nav >> text=Admin").count() == 0
    response = page.goto(served.url + "/admin/audit")
    assert response.status == 403
    assert "administrators only" in page.content()
    admin = sign_in(browser, served, "ada")
    assert admin.goto(served.url + "/admin/audit").status == 200
    admin.screenshot(path=served.shots / "audit.png", full_page=True)
    admin.goto(served.url + "/overview")
    assert admin.locator("svg.chart").count() == 2  # nothing was sent yet: no waiting-time chart
    assert "No replies were sent in these 30 days." in admin.content()
    admin.screenshot(path=served.shots / "overview.png", full_page=True)
