"""XOAUTH2 against a real Dovecot whose oauth2 passdb asks a real (loopback) OAuth2 provider.

Gmail and Microsoft 365 refuse passwords; the bot trades a refresh token
for an access token and logs in with SASL XOAUTH2.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
from imapclient import IMAPClient

from bot import imap, oauth2
from bot.config import parse_config
from bot.fetch import fetch_once
from bot.services import build_services
from tests.servers import Dovecot
from tests.servers.oauth2 import OAuth2Provider

USER = "support@example.org"


@pytest.fixture(scope="module")
def provider() -> Iterator[OAuth2Provider]:
    p = OAuth2Provider(USER).start()
    yield p
    p.stop()


@pytest.fixture(scope="module")
def oauth_dovecot(provider: OAuth2Provider) -> Iterator[Dovecot]:
    server = Dovecot(oauth2_introspection_url=provider.introspection_url)
    server.start()
    yield server
    server.close()


@pytest.fixture(autouse=True)
def _fresh_token_cache() -> None:
    oauth2._cache.clear()


def _imap_section(server: Dovecot, provider: OAuth2Provider, **oauth: str) -> dict:
    section = server.config_dict(USER)
    section.pop("password", None)
    section["auth"] = "xoauth2"
    section["oauth2"] = {
        "provider": "custom",
        "token_url": provider.token_url,
        "client_id": provider.client_id,
        "client_secret": provider.client_secret,
        "refresh_token": provider.refresh_token,
        **oauth,
    }
    return section


def _config(tmp_path, server, provider, **oauth):  # type: ignore[no-untyped-def]
    return parse_config(
        {
            "organisation": {"name": "ALS Worldwide", "address": USER, "reply_name": "Support"},
            "imap": _imap_section(server, provider, **oauth),
            "smtp": {"host": "127.0.0.1", "port": 1, "security": "none"},
            "database": {"url": f"sqlite:///{tmp_path / 'bot.db'}"},
            "paths": {"packets": str(tmp_path / "packets")},
        },
        environ={},
    )


def test_xoauth2_login_fetches_mail_with_a_refreshed_access_token(tmp_path, oauth_dovecot, provider) -> None:
    oauth_dovecot.deliver(
        USER,
        b"From: p@example.com\r\nSubject: dose\r\nMessage-ID: <x1@example.com>\r\n\r\n"
        b"What dose of methylcobalamin is used?\r\n",
    )
    services = build_services(_config(tmp_path, oauth_dovecot, provider))
    try:
        assert fetch_once(services).fetched == 1
    finally:
        services.close()
    assert provider.issued, "the bot asked the token endpoint for an access token"


def test_access_token_is_reused_until_it_nears_expiry(tmp_path, oauth_dovecot, provider) -> None:
    cfg = _config(tmp_path, oauth_dovecot, provider).imap
    before = provider.token_requests
    for _ in range(3):
        imap.close(imap.connect(cfg))
    assert provider.token_requests == before + 1


def test_a_revoked_refresh_token_is_refused_in_plain_words(tmp_path, oauth_dovecot, provider) -> None:
    cfg = _config(tmp_path, oauth_dovecot, provider, refresh_token="revoked").imap
    with pytest.raises(imap.ImapError, match="token endpoint refused the refresh token.*not recognised"):
        imap.connect(cfg)


def test_dovecot_refuses_a_token_the_provider_never_issued(oauth_dovecot) -> None:
    client = IMAPClient("127.0.0.1", oauth_dovecot.imap_port, ssl=False, timeout=10)
    try:
        with pytest.raises(Exception, match="(?i)auth"):
            client.oauth2_login(USER, "access-forged")
    finally:
        client.shutdown()


class _XOAuth2Handler:
    """aiosmtpd handler that accepts AUTH XOAUTH2 only with a token the provider issued."""

    def __init__(self, provider: OAuth2Provider) -> None:
        self.provider, self.logins, self.received = provider, [], []

    async def auth_XOAUTH2(self, server, args):  # noqa: ANN001, ANN201, N802 - aiosmtpd's hook name
        from aiosmtpd.smtp import AuthResult

        blob = args[1] if len(args) > 1 else await server.challenge_auth("")
        text = base64.b64decode(blob).decode() if isinstance(blob, str) else bytes(blob).decode()
        fields = dict(part.split("=", 1) for part in text.split("\x01") if "=" in part)
        token = fields.get("auth", "").removeprefix("Bearer ")
        ok = fields.get("user") == USER and token in self.provider.issued
        if ok:
            self.logins.append(fields["user"])
        return AuthResult(success=ok, handled=False)

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201, N802
        self.received.append(envelope.content)
        return "250 OK"


def test_smtp_xoauth2_sends_with_the_same_access_token(tmp_path, oauth_dovecot, provider) -> None:
    from aiosmtpd.controller import Controller

    from bot import smtp
    from tests.servers import free_port

    handler = _XOAuth2Handler(provider)
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), auth_require_tls=False)
    controller.start()
    try:
        cfg = _config(tmp_path, oauth_dovecot, provider)
        smtp_cfg = cfg.smtp.model_copy(update={"port": controller.port, "username": USER, "auth": "xoauth2"})
        smtp.send(smtp_cfg, b"Subject: hi\r\n\r\nbody\r\n", USER, ["patient@example.com"], cfg.imap.oauth2)
    finally:
        controller.stop()
    assert handler.logins == [USER] and len(handler.received) == 1
