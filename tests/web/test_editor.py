"""The rules and template editors with Flask's test client: roles, CSRF, refusals, saves, rollback, try it.

The app's rules.yaml and replies/ are temp copies (the ``config`` fixture of
this module replaces the shared one), so nothing tracked is ever written.
"""

from __future__ import annotations

import re
import shutil
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.store import AuditEntry, Inquiry
from bot.store.versions import ConfigVersion
from bot.web import create_app
from tests.web.conftest import REPO, add_inquiry, csrf_from, web_config

WORD = "jeringuilla"
TOPIC = "replies/es/topics/administration.txt.j2"
BROKEN_LINE_4 = "version: 1\ntopics:\n  - id: dosage\n    title: Dose: how much\n    priority: 1\n"
GETS = [
    "/admin/rules",
    "/admin/templates",
    f"/admin/templates/edit?name={TOPIC}",
    "/admin/try",
    "/admin/versions/1",
    "/admin/preview/x",
]
POSTS = [
    "/admin/rules/check",
    "/admin/rules/dry-run",
    "/admin/rules/save",
    "/admin/templates/check",
    "/admin/templates/save",
    "/admin/try",
    "/admin/adopt",
    "/admin/versions/1/rollback",
]


@pytest.fixture
def config(tmp_path: Path):
    shutil.copy(REPO / "rules.yaml", tmp_path / "rules.yaml")
    shutil.copytree(REPO / "replies", tmp_path / "replies")
    base = web_config(tmp_path)
    paths = base.paths.model_copy(update={"rules": tmp_path / "rules.yaml", "replies": tmp_path / "replies"})
    return base.model_copy(update={"paths": paths})


@pytest.fixture
def app(config, services, tmp_path):
    settings = {
        "TESTING": True,
        "SECRET_KEY_FILE": str(tmp_path / "key"),
        "EDITOR_HISTORY_DIR": str(tmp_path / "history"),
    }
    return create_app(config, services, settings=settings)


def rules_text(config) -> str:
    return Path(config.paths.rules).read_text(encoding="utf-8")


def with_word(text: str) -> str:
    return text.replace('"cianocobalamina",', f'"cianocobalamina", "{WORD}",', 1)


def spanish(subject: str = "Una pregunta") -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "Ana Ruiz <ana@example.es>", "support@example.org", subject
    msg["Message-ID"] = "<j1@example.es>"
    msg.set_content(
        f"Hola, mi padre tiene ELA. Tenemos miedo con la {WORD}: nos da inseguridad hacerlo en casa."
    )
    return msg.as_bytes()


def form(client, url: str = "/admin/rules", **data):
    """The editor's form fields as the page gave them (token, base), with ``data`` on top."""
    page = client.get(url).get_data(as_text=True)
    base = re.search(r'name="base" value="([^"]*)"', page)
    return {"csrf_token": csrf_from(page), "base": base.group(1) if base else "", **data}


def versions(services) -> list[ConfigVersion]:
    with services.store.session() as s:
        return list(s.scalars(select(ConfigVersion).order_by(ConfigVersion.id)))


@pytest.mark.parametrize("url", GETS)
def test_staff_get_403_on_every_editor_page(staff, url):
    assert staff.get(url).status_code == 403


@pytest.mark.parametrize("url", POSTS)
def test_staff_get_403_on_every_editor_post(staff, config, url):
    token = csrf_from(staff.get("/queue").get_data(as_text=True))
    before = rules_text(config)
    resp = staff.post(
        url, data={"csrf_token": token, "text": with_word(before), "name": "rules.yaml", "go": "1"}
    )
    assert resp.status_code == 403
    assert rules_text(config) == before


@pytest.mark.parametrize("url", POSTS)
def test_every_editor_post_needs_the_csrf_token(admin, services, config, url):
    before = rules_text(config)
    assert admin.post(url, data={"text": with_word(before), "name": "rules.yaml"}).status_code == 403
    assert admin.post(url, data={"text": "x", "csrf_token": "forged"}).status_code == 403
    assert rules_text(config) == before and versions(services) == []


def test_invalid_yaml_is_refused_with_its_line_and_the_file_stays(admin, services, config):
    before = rules_text(config)
    resp = admin.post("/admin/rules/save", data=form(admin, text=BROKEN_LINE_4))
    assert resp.status_code == 400
    page = resp.get_data(as_text=True)
    assert "Line 4" in page and "not valid YAML" in page and "mapping values are not allowed" in page
    assert BROKEN_LINE_4.splitlines()[3] in page  # the text is kept for fixing
    assert rules_text(config) == before and versions(services) == []
    checked = admin.post(
        "/admin/rules/check", data=form(admin, text=BROKEN_LINE_4), headers={"Accept": "application/json"}
    ).get_json()
    assert checked["ok"] is False and checked["problems"][0]["line"] == 4


def test_check_shows_the_changes_and_save_writes_a_version(admin, services, config, tmp_path):
    new = with_word(rules_text(config))
    page = admin.post("/admin/rules/check", data=form(admin, text=new)).get_data(as_text=True)
    assert "No mistakes found" in page and "<ins>" in page and WORD in page
    resp = admin.post("/admin/rules/save", data=form(admin, text=new.replace("\n", "\r\n"), note="syringe"))
    assert resp.status_code == 302
    assert rules_text(config) == new  # stored with the file's own line ends
    page = admin.get("/admin/rules").get_data(as_text=True)
    assert "Saved as version 2" in page and "syringe" in page and "in use" in page
    assert [v.saved_by for v in versions(services)] == ["(outside the web app)", "ada"]
    assert len(list((tmp_path / "history" / "rules.yaml").iterdir())) == 2
    with services.store.session() as s:
        assert s.scalar(select(AuditEntry.action)) == "rules_saved"
    assert "saved the reply rules" in admin.get("/admin/audit").get_data(as_text=True)


def test_a_topic_without_reply_templates_is_pointed_out(admin, config):
    new_topic = (
        "\n  - id: syringes\n    title: Syringes\n    priority: 5\n    template: syringes\n"
        f'    keywords: {{es: ["{WORD}"]}}\n'
    )
    text = rules_text(config).replace("\ntopics:\n", "\ntopics:" + new_topic, 1)
    page = admin.post("/admin/rules/check", data=form(admin, text=text)).get_data(as_text=True)
    assert "No mistakes found" in page and "Some topics have no reply text yet" in page
    assert "“Syringes” has no reply section in English, Spanish (topics/syringes.txt.j2)" in page
    assert "template-gaps" not in admin.get("/admin/rules").get_data(as_text=True)


def test_a_stale_editor_cannot_overwrite_a_hand_edit(admin, services, config):
    data = form(admin, text=with_word(rules_text(config)))
    Path(config.paths.rules).write_text(rules_text(config) + "# by hand\n", encoding="utf-8")
    resp = admin.post("/admin/rules/save", data=data)
    assert resp.status_code == 409
    assert "Someone changed the rules while you were editing" in resp.get_data(as_text=True)
    assert rules_text(config).endswith("# by hand\n")


def test_outside_change_notice_adopt_and_rollback(admin, services, config):
    original = rules_text(config)
    admin.post("/admin/rules/save", data=form(admin, text=with_word(original)))
    Path(config.paths.rules).write_text(with_word(original) + "# by hand\n", encoding="utf-8")
    page = admin.get("/admin/rules").get_data(as_text=True)
    assert "This file was changed outside the web app" in page
    admin.post("/admin/adopt", data=form(admin, name="rules.yaml"))
    assert "outside-notice" not in admin.get("/admin/rules").get_data(as_text=True)
    first = versions(services)[0]
    view = admin.get(f"/admin/versions/{first.id}").get_data(as_text=True)
    assert "What restoring it would change" in view and "<del>" in view
    resp = admin.post(f"/admin/versions/{first.id}/rollback", data=form(admin))
    assert resp.status_code == 302 and rules_text(config) == original
    assert f"Version {first.id} is restored" in admin.get("/admin/rules").get_data(as_text=True)
    assert admin.get("/admin/versions/999").status_code == 404


def test_dry_run_shows_the_inquiry_that_would_change(admin, services, config):
    add_inquiry(services, raw=spanish("Jeringuilla en casa"), subject="Jeringuilla en casa", reply=False)
    resp = admin.post("/admin/rules/dry-run", data=form(admin, text=with_word(rules_text(config)), days="30"))
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "<strong>1</strong> of 1 message would be handled differently" in page
    assert "Jeringuilla en casa" in page and f"because it says “{WORD}”" in page
    assert "Test messages with known answers" in page and "corpus-figures" in page
    assert "Tenemos miedo" not in page  # no message bodies
    refused = admin.post("/admin/rules/dry-run", data=form(admin, text=BROKEN_LINE_4))
    assert refused.status_code == 400 and "Line 4" in refused.get_data(as_text=True)


def test_template_editor_previews_refuses_and_saves(admin, services, config):
    inquiry = add_inquiry(services, raw=spanish(), subject="Una pregunta", reply=False)
    url = f"/admin/templates/edit?name={TOPIC}&inquiry={inquiry}"
    page = admin.get(url).get_data(as_text=True)
    assert "metilcobalamina" in page and "Formatted version" in page
    frame = re.search(r'src="(/admin/preview/[^"]+)"', page).group(1)
    shown = admin.get(frame)
    assert shown.status_code == 200 and "script-src" not in shown.headers["Content-Security-Policy"]
    path = Path(config.paths.replies) / "es" / "topics" / "administration.txt.j2"
    before = path.read_text(encoding="utf-8")
    bad = admin.post("/admin/templates/save", data=form(admin, url, name=TOPIC, text="Hola\n{% if %}\n"))
    assert bad.status_code == 400 and "Line 2" in bad.get_data(as_text=True)
    undefined = admin.post("/admin/templates/save", data=form(admin, url, name=TOPIC, text="{{ nada }}\n"))
    assert undefined.status_code == 400 and path.read_text(encoding="utf-8") == before
    new = "Sobre la jeringuilla: le explicamos cómo se hace.\n" + before
    ok = admin.post(
        "/admin/templates/save", data=form(admin, url, name=TOPIC, text=new, inquiry=str(inquiry))
    )
    assert ok.status_code == 302 and path.read_text(encoding="utf-8") == new
    assert "Sobre la jeringuilla" in admin.get(url).get_data(as_text=True)
    first = versions(services)[0]
    assert (first.path, first.content) == (TOPIC, before)
    assert admin.post(f"/admin/versions/{first.id}/rollback", data=form(admin, url)).status_code == 302
    assert path.read_text(encoding="utf-8") == before
    assert (
        admin.get("/admin/templates/edit?name=replies/es/packets/general_information.md").status_code == 404
    )
    assert admin.get("/admin/templates/edit?name=rules.yaml").status_code == 404


def test_strings_that_break_the_reply_are_refused(admin, config):
    name = "replies/en/strings.yaml"
    url = f"/admin/templates/edit?name={name}"
    path = Path(config.paths.replies) / "en" / "strings.yaml"
    before = path.read_text(encoding="utf-8")
    text = "\n".join(line for line in before.splitlines() if not line.startswith("closing:")) + "\n"
    resp = admin.post("/admin/templates/save", data=form(admin, url, name=name, text=text))
    assert resp.status_code == 400 and "closing" in resp.get_data(as_text=True)
    assert path.read_text(encoding="utf-8") == before
    disclaimer = "replies/es/disclaimer.txt"
    url = f"/admin/templates/edit?name={disclaimer}"
    resp = admin.post("/admin/templates/save", data=form(admin, url, name=disclaimer, text="  \n"))
    assert resp.status_code == 400 and "the disclaimer cannot be empty" in resp.get_data(as_text=True)


def test_templates_list_both_languages(admin):
    page = admin.get("/admin/templates").get_data(as_text=True)
    assert "English replies" in page and "Spanish replies" in page and "Disclaimer" in page
    assert "packets" not in page


def test_try_it_shows_the_decision_and_reply_and_keeps_nothing(admin, services, config):
    data = form(
        admin, "/admin/try", subject="Pregunta", body=f"Hola, ¿cómo se usa la {WORD} y la aguja?", go="1"
    )
    page = admin.post("/admin/try", data=data).get_data(as_text=True)
    assert "Spanish" in page and "Write a reply for staff to approve" in page
    assert "Intramuscular" in page and "metilcobalamina" in page and 'sandbox src="/admin/preview/' in page
    with services.store.session() as s:
        assert s.scalar(select(func.count()).select_from(Inquiry)) == 0
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == 0
    # From the rules editor, with rules that are not saved.
    data = form(admin, "/admin/try", text=with_word(rules_text(config)), from_rules="1", go="1")
    data["body"] = f"Tenemos miedo con la {WORD}."
    page = admin.post("/admin/try", data=data).get_data(as_text=True)
    assert "not saved yet" in page and f"“{WORD}”" in page
    raw = spanish().decode()
    page = admin.post("/admin/try", data=form(admin, "/admin/try", raw=raw, go="1")).get_data(as_text=True)
    assert "Write a reply" not in page and "No topic matched" in page


def test_a_preview_belongs_to_its_account(admin, app, make_user):
    page = admin.get(f"/admin/templates/edit?name={TOPIC}").get_data(as_text=True)
    frame = re.search(r'src="(/admin/preview/[^"]+)"', page).group(1)
    from tests.web.conftest import login

    make_user("eve", role="admin")
    other = app.test_client()
    login(other, "eve")
    assert other.get(frame).status_code == 404 and admin.get(frame).status_code == 200
