"""Sign-in, sessions, CSRF, roles and the login rate limit of the staff web app."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from bot.store.users import User
from bot.web import create_app
from bot.web.security import LoginLimiter, load_secret_key, verify_password
from tests.web.conftest import PASSWORD, add_inquiry, csrf_from, login, post, web_config

GET_PAGES = [
    "/",
    "/queue",
    "/queue?state=all&page=2",
    "/overview",
    "/account",
    "/inquiry/1",
    "/inquiry/1/reply.html",
    "/inquiry/1/reply/attachment/0",
    "/inquiry/1/attachment/0",
    "/admin/",
    "/admin/audit",
    "/admin/users",
    "/admin/rules",
]
POST_ACTIONS = [
    "/inquiry/1/approve",
    "/inquiry/1/edit",
    "/inquiry/1/redraft",
    "/inquiry/1/packets",
    "/inquiry/1/reject",
    "/inquiry/1/answered",
    "/inquiry/1/back-to-draft",
    "/admin/users",
    "/account",
    "/logout",
]
ADMIN_PAGES = ["/admin/", "/admin/audit", "/admin/users", "/admin/rules"]


@pytest.mark.parametrize("url", GET_PAGES)
def test_every_page_needs_a_login(app, services, url):
    add_inquiry(services)
    resp = app.test_client().get(url)
    assert resp.status_code == 302
    assert resp.headers["Location"].startswith("/login")


@pytest.mark.parametrize("url", POST_ACTIONS)
def test_post_without_login_or_token_is_refused(app, services, url):
    add_inquiry(services)
    client = app.test_client()
    client.get("/login")  # a session with a token exists, but the form does not carry it
    assert client.post(url, data={"reason": "x"}).status_code == 403


@pytest.mark.parametrize("url", POST_ACTIONS)
def test_post_without_csrf_token_is_forbidden_when_signed_in(staff, services, url):
    inquiry_id = add_inquiry(services)
    assert staff.post(url.replace("/1/", f"/{inquiry_id}/"), data={"reason": "x"}).status_code == 403
    assert staff.post(url, data={"csrf_token": "wrong"}).status_code == 403
    with services.store.session() as s:
        from bot.store import Inquiry

        assert s.get(Inquiry, inquiry_id).state == "drafted"


def test_login_form_itself_needs_the_csrf_token(app, make_user):
    make_user("sam")
    client = app.test_client()
    client.get("/login")
    assert client.post("/login", data={"username": "sam", "password": PASSWORD}).status_code == 403


def test_login_then_pages_open(staff):
    for url in ("/queue", "/overview", "/account"):
        resp = staff.get(url)
        assert resp.status_code == 200, url
        assert "Sign out" in resp.get_data(as_text=True)


@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_staff_get_403_on_admin_pages(staff, url):
    assert staff.get(url, follow_redirects=False).status_code == 403


def test_staff_cannot_add_accounts(staff, services):
    resp = post(staff, "/admin/users", {"username": "eve", "role": "admin", "password": "x" * 12})
    assert resp.status_code == 403
    with services.store.session() as s:
        assert s.scalar(select(User).where(User.username == "eve")) is None


@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_admin_sees_admin_pages(admin, url):
    assert admin.get(url, follow_redirects=True).status_code == 200


def test_admin_adds_an_account_that_can_sign_in(app, admin):
    resp = post(admin, "/admin/users", {"username": "Bea", "role": "staff", "password": "a long password"})
    assert resp.status_code == 302
    client = app.test_client()
    assert login(client, "bea", "a long password").status_code == 302
    assert client.get("/admin/users").status_code == 403


def test_staff_nav_has_no_admin_link_but_admin_does(staff, admin):
    assert "/admin/" not in staff.get("/queue").get_data(as_text=True)
    assert "/admin/audit" in admin.get("/queue").get_data(as_text=True)


def test_wrong_password_is_refused_in_plain_words(app, make_user):
    make_user("sam")
    client = app.test_client()
    resp = login(client, "sam", "not the password")
    assert resp.status_code == 401
    assert "do not match" in resp.get_data(as_text=True)
    assert client.get("/queue").status_code == 302


def test_passwords_are_stored_as_argon2id(services, make_user):
    make_user("sam")
    with services.store.session() as s:
        stored = s.scalar(select(User.password_hash).where(User.username == "sam"))
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    assert PasswordHasher().verify(stored, PASSWORD)
    assert verify_password(stored, PASSWORD) and not verify_password(stored, "nope")
    assert not verify_password(None, PASSWORD) and not verify_password("garbage", PASSWORD)


def test_login_is_rate_limited_per_username(app, make_user):
    make_user("sam")
    client = app.test_client()
    for _ in range(5):
        assert login(client, "sam", "wrong").status_code == 401
    # The right password is refused too while the limit holds: guessing cannot go on.
    resp = login(client, "sam", PASSWORD)
    assert resp.status_code == 429
    assert "Too many failed sign-in attempts" in resp.get_data(as_text=True)
    assert client.get("/queue").status_code == 302


def test_login_is_rate_limited_per_address(app, make_user):
    make_user("sam")
    client = app.test_client()
    for i in range(5):
        assert login(client, f"nobody{i}", "wrong").status_code == 401
    assert login(client, "sam", PASSWORD).status_code == 429
    # Another address is not affected.
    other = app.test_client()
    token = csrf_from(other.get("/login", environ_base={"REMOTE_ADDR": "10.0.0.9"}).get_data(as_text=True))
    resp = other.post(
        "/login",
        data={"username": "sam", "password": PASSWORD, "csrf_token": token},
        environ_base={"REMOTE_ADDR": "10.0.0.9"},
    )
    assert resp.status_code == 302


def test_limiter_window_expires():
    now = [0.0]
    limiter = LoginLimiter(limit=2, window=60, clock=lambda: now[0])
    limiter.fail("user:a")
    limiter.fail("user:a")
    assert limiter.blocked("user:a") and not limiter.blocked("user:b")
    now[0] = 61
    assert not limiter.blocked("user:a")


def test_session_cookie_flags_on_loopback(app, make_user):
    make_user("sam")
    client = app.test_client()
    resp = login(client, "sam")
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain http on 127.0.0.1 only


def test_session_cookie_is_secure_off_loopback(tmp_path, services):
    app = create_app(web_config(tmp_path, host="0.0.0.0"), services, settings={"TESTING": True})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    override = create_app(
        web_config(tmp_path), services, settings={"SESSION_COOKIE_SECURE": True, "TESTING": True}
    )
    assert override.config["SESSION_COOKIE_SECURE"] is True


def test_secret_key_file_is_made_private_and_reused(tmp_path, services):
    key_file = tmp_path / "var" / "web_secret_key"
    app = create_app(
        web_config(tmp_path, secret_key=""), services, settings={"SECRET_KEY_FILE": str(key_file)}
    )
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert app.secret_key == key_file.read_text().strip() and len(app.secret_key) > 40
    assert load_secret_key("", key_file) == app.secret_key
    assert load_secret_key("configured", key_file) == "configured"


def test_login_redirects_only_to_local_paths(app, make_user):
    make_user("sam")
    client = app.test_client()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    data = {"username": "sam", "password": PASSWORD, "csrf_token": token}
    resp = client.post("/login", data={**data, "next": "https://evil.example/"})
    assert resp.headers["Location"] == "/queue"
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/queue").get_data(as_text=True))})
    token = csrf_from(client.get("/login").get_data(as_text=True))
    resp = client.post("/login", data={**data, "csrf_token": token, "next": "/overview"})
    assert resp.headers["Location"] == "/overview"


def test_logout_ends_the_session(staff):
    assert post(staff, "/logout").status_code == 302
    assert staff.get("/queue").status_code == 302


def test_password_change_signs_out_other_sessions(app, make_user):
    make_user("sam")
    first, second = app.test_client(), app.test_client()
    login(first, "sam")
    login(second, "sam")
    resp = post(
        first,
        "/account",
        {"current": PASSWORD, "new": "a brand new secret", "again": "a brand new secret"},
        "/account",
    )
    assert resp.status_code == 302
    assert first.get("/queue").status_code == 200
    assert second.get("/queue").status_code == 302


def test_password_change_checks_the_current_password(staff):
    resp = post(staff, "/account", {"current": "wrong", "new": "x" * 12, "again": "x" * 12}, "/account")
    assert resp.status_code == 400
    assert "current password is not right" in resp.get_data(as_text=True)


def test_security_headers(staff):
    resp = staff.get("/queue")
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Cache-Control"] == "no-store"


def test_static_files_need_no_login(app):
    client = app.test_client()
    assert client.get("/static/style.css").status_code == 200
    assert client.get("/static/keys.js").status_code == 200


def test_no_outside_resources_in_pages(staff, services):
    add_inquiry(services)
    for url in ("/queue", "/overview", "/inquiry/1"):
        html = staff.get(url).get_data(as_text=True)
        assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")
        assert "https://" not in html, url


def test_key_file_path_default_is_under_var(tmp_path, services, monkeypatch):
    monkeypatch.chdir(tmp_path)
    create_app(web_config(tmp_path, secret_key=""), services)
    assert (Path(tmp_path) / "var" / "web_secret_key").exists()
