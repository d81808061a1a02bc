"""The rules and template editors in a real browser, against real mail: edit, dry run, save, roll back.

Like test_browser.py: Dovecot and the SMTP relay of tests/conftest.py on
loopback, mail fetched with ``fetch_once`` as the worker would, the app
served by waitress, Debian's headless Chromium. The config's rules.yaml and
replies/ are temp copies: the repository's files are never written. Each
test saves screenshots of what it saw in its temp dir (``shots``).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.config import parse_config
from bot.store import Inquiry
from bot.store.users import User
from bot.web import create_app
from bot.web.security import hash_password
from tests.conftest import REPO
from tests.web.conftest import serving
from tests.web.test_browser import PASSWORD

pytestmark = pytest.mark.e2e
WORD = "jeringuilla"  # a Spanish word no topic knows yet


class Site:
    """The served app, its services, the mail server and where screenshots go."""

    def __init__(self, url: str, services: Any, dovecot: Any, rules: Path, shots: Path) -> None:
        self.url, self.services, self.dovecot, self.rules, self.shots = url, services, dovecot, rules, shots
        self._n = 0

    def receive(self, subject: str) -> Inquiry:
        """Deliver a Spanish message with WORD and fetch it as the worker would; its stored inquiry."""
        from bot.fetch import fetch_once

        self._n += 1
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = "Ana Ruiz <ana@example.es>", "support@example.org", subject
        msg["Message-ID"] = f"<editor-{self._n}@example.es>"
        msg.set_content(
            f"Hola, mi padre tiene ELA. Tenemos miedo con la {WORD}: nos da inseguridad hacerlo en casa."
        )
        self.dovecot.deliver("support@example.org", msg.as_bytes())
        fetch_once(self.services)
        with self.services.store.session() as s:
            return s.scalars(select(Inquiry).where(Inquiry.subject == subject)).one()


@pytest.fixture
def site(dovecot, smtp_relay, tmp_config, tmp_path) -> Iterator[Site]:
    from bot.services import build_services

    shutil.copy(REPO / "rules.yaml", tmp_path / "rules.yaml")
    shutil.copytree(REPO / "replies", tmp_path / "replies")
    paths = {"rules": str(tmp_path / "rules.yaml"), "replies": str(tmp_path / "replies")}
    config = parse_config(tmp_config(paths=paths), environ={})
    services = build_services(config)
    with services.store.session() as s:
        s.add(User(username="ada", role="admin", password_hash=hash_password(PASSWORD)))
        s.add(User(username="sam", role="staff", password_hash=hash_password(PASSWORD)))
    settings = {"SECRET_KEY_FILE": str(tmp_path / "key"), "EDITOR_HISTORY_DIR": str(tmp_path / "history")}
    app = create_app(config, services, settings=settings)
    shots = tmp_path / "screenshots"
    shots.mkdir()
    try:
        with serving(app) as url:
            yield Site(url, services, dovecot, tmp_path / "rules.yaml", shots)
    finally:
        services.close()


def sign_in(browser: Any, site: Site, name: str) -> Any:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(site.url + "/queue")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(site.url + "/queue")
    return page


def with_word(text: str) -> str:
    assert '"cianocobalamina",' in text
    return text.replace('"cianocobalamina",', f'"cianocobalamina", "{WORD}",', 1)


def test_admin_adds_a_spanish_keyword_dry_runs_saves_and_the_bot_uses_it(site, browser) -> None:
    first = site.receive("Jeringuilla en casa")
    assert (first.topics, first.action) == ([], "manual")
    original = site.rules.read_text(encoding="utf-8")
    page = sign_in(browser, site, "ada")
    page.click("nav >> text=Admin")
    page.click("nav.tabs >> text=Reply rules")
    assert "The bot is using these rules" in page.inner_text("#live-status")
    page.screenshot(path=site.shots / "rules_editor.png", full_page=False)

    page.fill("#text", with_word(original))
    page.wait_for_selector("text=No mistakes found so far.")  # checked as it was typed (editor.js)
    page.fill("#note", "jeringuilla is how people in Spain say syringe")
    page.click("#dry-run-button")
    page.wait_for_selector("text=What would change with your rules")
    summary = page.inner_text("#inquiries-summary")
    assert summary.startswith("1 of 1 message would be handled differently"), summary
    row = page.inner_text("#inquiry-changes tbody tr")
    assert "Jeringuilla en casa" in row and f"because it says “{WORD}”" in row
    assert "no topic" in page.inner_text("#inquiry-changes td.before")
    assert "Intramuscular" in page.inner_text("#inquiry-changes td.after")
    assert "Tenemos miedo" not in page.content()  # subject and matched words only
    assert page.locator("#corpus-figures").is_visible()
    page.screenshot(path=site.shots / "dry_run.png", full_page=True)

    page.click("#save-button")
    page.wait_for_selector("text=Saved as version 2")
    assert site.rules.read_text(encoding="utf-8") == with_word(original)
    page.screenshot(path=site.shots / "rules_saved.png", full_page=True)
    second = site.receive("Otra vez la jeringuilla")
    assert (second.topics, second.action, second.language) == (["administration"], "draft", "es")


def test_invalid_rules_are_refused_the_bot_keeps_its_rules_and_rollback_restores(site, browser) -> None:
    original = site.rules.read_text(encoding="utf-8")
    page = sign_in(browser, site, "ada")
    page.goto(site.url + "/admin/rules")
    page.fill("#text", with_word(original))
    page.click("#save-button")
    page.wait_for_selector("text=Saved as version 2")
    saved = site.rules.read_text(encoding="utf-8")

    lines = saved.splitlines()
    line = lines.index("    title: Emergency or despair - staff first") + 1
    lines[line - 1] = "    title: Emergency: or despair"
    page.fill("#text", "\n".join(lines) + "\n")
    page.wait_for_selector(f"#problems >> text=Line {line}")  # shown while typing
    page.click("#save-button")
    page.wait_for_selector("text=1 mistake to fix before saving")
    assert f"Line {line}" in page.inner_text("#problems") and "not valid YAML" in page.inner_text("#problems")
    page.locator("#problems").scroll_into_view_if_needed()
    page.screenshot(path=site.shots / "rules_refused.png", full_page=False)
    page.click(f"#problems >> text=Line {line}")  # jumps to the line in the editor
    assert page.inner_text("#caret").startswith(f"Line {line},")
    assert site.rules.read_text(encoding="utf-8") == saved
    assert site.receive("Jeringuilla tres").topics == ["administration"]  # the saved rules still answer

    page.goto(site.url + "/admin/rules")
    page.click("table.versions tr:has-text('found on the server') >> text=Restore this version")
    page.wait_for_selector("text=Version 1 is restored")
    assert site.rules.read_text(encoding="utf-8") == original
    page.screenshot(path=site.shots / "rules_rolled_back.png", full_page=True)
    assert site.receive("Jeringuilla cuatro").topics == []


def test_staff_cannot_open_the_editor(site, browser) -> None:
    page = sign_in(browser, site, "sam")
    assert page.locator("nav >> text=Admin").count() == 0
    for path in ("/admin/rules", "/admin/templates", "/admin/try"):
        response = page.goto(site.url + path)
        assert response.status == 403 and "administrators only" in page.content()


def test_template_preview_follows_the_text_and_try_it_shows_the_reply(site, browser) -> None:
    inquiry = site.receive("Jeringuilla y aguja")
    page = sign_in(browser, site, "ada")
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(site.url + "/admin/templates")
    page.screenshot(path=site.shots / "templates.png", full_page=True)
    page.locator("section[aria-labelledby=h-es]").get_by_role("link", name="Section: Intramuscular").click()
    page.select_option("#inquiry", str(inquiry.id))
    page.wait_for_timeout(300)
    text = page.input_value("#text")
    page.fill("#text", "Sobre la jeringuilla: le explicamos cómo se hace.\n" + text)
    page.locator("#preview-text", has_text="Sobre la jeringuilla").wait_for(timeout=10000)
    assert page.locator("#preview-frame").get_attribute("sandbox") == ""
    page.click("#preview summary")
    page.screenshot(path=site.shots / "template_editor.png", full_page=True)

    page.click("nav.tabs >> text=Try a message")
    page.fill("input[name=subject]", "Pregunta")
    page.fill("textarea[name=body]", "Hola, ¿qué dosis de metilcobalamina debe tomar mi madre?")
    page.click("#try-button")
    page.wait_for_selector("#result")
    assert page.inner_text("#result-language").startswith("Spanish")
    assert page.inner_text("#result-action").startswith("Write a reply")
    assert "metilcobalamina" in page.inner_text("#reply-text")
    assert page.locator("iframe.reply-html").get_attribute("sandbox") == ""
    page.click("#result summary")
    page.screenshot(path=site.shots / "try_it.png", full_page=True)
    assert dialogs == []
    with site.services.store.session() as s:
        assert s.scalar(select(Inquiry.id).where(Inquiry.subject == "Pregunta")) is None
