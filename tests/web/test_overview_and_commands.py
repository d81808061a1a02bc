"""The overview charts, the admin audit page, and the ``users`` and ``serve`` commands."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, date, datetime, timedelta

import yaml
from sqlalchemy import select

from bot import cli
from bot.store import Reply
from bot.store.users import User
from bot.web.charts import bar_chart, column_chart
from bot.web.dashboard import overview_data
from tests.servers import free_port
from tests.web.conftest import REPO, add_inquiry


def test_charts_are_plain_svg():
    svg = column_chart(["01 Nov", "02 Nov"], [("English", [3, 1]), ("Spanish", [2, 0])], title="Per <day>")
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert "<script" not in svg and "style=" not in svg
    assert 'aria-label="Per &lt;day&gt;"' in svg
    assert svg.count("<rect") == 3 + 2  # three bars (a zero draws nothing) and two legend keys
    assert "<title>01 Nov: English 3</title>" in svg
    bars = bar_chart([("dosage", 5), ("research", 2)], title="Topics", unit=" x")
    assert "<title>dosage: 5 x</title>" in bars and bars.count("<rect") == 2
    assert "Nothing to show yet." in bar_chart([], title="none")


def test_overview_figures(services):
    today = date(2026, 11, 25)
    noon = datetime(2026, 11, 25, 12, tzinfo=UTC)
    add_inquiry(services, received_at=noon - timedelta(hours=3), language="en", topics=["dosage"])
    add_inquiry(services, received_at=noon - timedelta(days=1), language="es", topics=["dosage", "obtaining"])
    add_inquiry(services, received_at=noon - timedelta(days=40), language="es")  # too old
    add_inquiry(services, received_at=noon, state="ignored", language="en")  # machine mail
    sent = add_inquiry(services, received_at=noon - timedelta(hours=5), state="answered", reply_state="sent")
    with services.store.session() as s:
        s.scalar(select(Reply).where(Reply.inquiry_id == sent)).sent_at = noon - timedelta(hours=1)
    with services.store.session() as s:
        data = overview_data(s, today)
    assert data["total"] == 3
    by_language = dict(data["by_language"])
    assert by_language["en"][-1] == 2 and by_language["es"][-2] == 1
    assert dict(data["by_topic"]) == {"dosage": 3, "obtaining": 1}
    assert data["median_hours"][-1] == 4.0 and data["median_all"] == 4.0
    assert data["answered"] == 1 and data["open"] == 3  # open counts every age


def test_overview_page_renders_charts(staff, services):
    add_inquiry(services, language="es", topics=["research"])
    html = staff.get("/overview").get_data(as_text=True)
    assert html.count("<svg") == 2  # per language and per topic; no reply was sent yet
    assert "No replies were sent in these 30 days." in html
    assert "Spanish" in html and "research" in html


def test_admin_audit_lists_every_action(admin, staff, services):
    from tests.web.conftest import act

    inquiry_id = add_inquiry(services)
    act(staff, inquiry_id, "reject", {"reason": "duplicate of a phone call"})
    html = admin.get("/admin/audit").get_data(as_text=True)
    assert "sam" in html and "rejected" in html and "duplicate of a phone call" in html
    assert f'href="/inquiry/{inquiry_id}"' in html
    assert "sam" not in admin.get("/admin/audit?actor=ada").get_data(as_text=True).split("<tbody>")[1]


def _config_file(tmp_path, config):
    path = tmp_path / "bot.yaml"
    data = {
        "organisation": config.organisation.model_dump(),
        "mailbox": {"kind": "maildir", "maildir": str(tmp_path / "maildir")},
        "smtp": {"host": "127.0.0.1"},
        "database": {"url": config.database.url},
        "paths": {"rules": str(config.paths.rules), "replies": str(config.paths.replies)},
    }
    path.write_text(yaml.safe_dump(data))
    return str(path)


def test_users_commands(tmp_path, config, services, capsys, monkeypatch):
    cfg = _config_file(tmp_path, config)
    pw = tmp_path / "pw"
    pw.write_text("a good long password\n")
    assert (
        cli.main(["--config", cfg, "users", "add", "Ada", "--role", "admin", "--password-file", str(pw)]) == 0
    )
    assert cli.main(["--config", cfg, "users", "add", "ada", "--password-file", str(pw)]) == 1
    short = tmp_path / "short"
    short.write_text("short\n")
    assert cli.main(["--config", cfg, "users", "add", "bob", "--password-file", str(short)]) == 2
    answers = iter(["another long password", "another long password"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert cli.main(["--config", cfg, "users", "add", "bob"]) == 0
    out = capsys.readouterr()
    assert "added ada (admin)" in out.out and "at least 10 characters" in out.err
    assert cli.main(["--config", cfg, "users", "list"]) == 0
    listing = capsys.readouterr().out
    assert re.search(r"^ada\s+admin\s+last login: never$", listing, re.M)
    assert re.search(r"^bob\s+staff", listing, re.M)
    with services.store.session() as s:
        old = s.scalar(select(User.password_hash).where(User.username == "bob"))
    mismatch = iter(["one long password!", "another long password"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(mismatch))
    assert cli.main(["--config", cfg, "users", "passwd", "bob"]) == 2
    assert cli.main(["--config", cfg, "users", "passwd", "bob", "--password-file", str(pw)]) == 0
    with services.store.session() as s:
        new = s.scalar(select(User.password_hash).where(User.username == "bob"))
    assert new != old and new.startswith("$argon2id$")
    assert cli.main(["--config", cfg, "users", "passwd", "nobody", "--password-file", str(pw)]) == 1


def test_serve_command_is_registered():
    parser = cli.build_parser()
    args = parser.parse_args(["serve", "--host", "127.0.0.1", "--port", "9999"])
    assert args.host == "127.0.0.1" and args.port == 9999 and callable(args.func)


def test_serve_runs_waitress_on_loopback(tmp_path, config):
    """``run.py serve`` starts waitress, shows the login page, and keeps a made-up key in var/ (0600)."""
    cfg = _config_file(tmp_path, config)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "BOT_SECRET_KEY"}
    proc = subprocess.Popen(
        [sys.executable, str(REPO / "run.py"), "--config", cfg, "serve", "--port", str(port)],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as resp:
                    body, headers = resp.read().decode(), resp.headers
                break
            except OSError:
                assert proc.poll() is None, proc.stdout.read().decode()
                assert time.monotonic() < deadline, "serve did not answer within 60 seconds"
                time.sleep(0.3)
        assert "Sign in" in body
        assert headers["Server"] == "helpdesk"
        cookie = headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
        key = tmp_path / "var" / "web_secret_key"
        assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    finally:
        proc.terminate()
        out = proc.communicate(timeout=30)[0].decode()
    assert f"staff web app on http://127.0.0.1:{port}/" in out
    assert "there are no accounts yet" in out
