"""IMAP over TLS and STARTTLS, with certificate checks on by default, against a real Dovecot.

The server's certificate is self-signed for 127.0.0.1; trusting it (as an
installed CA would be) is done through ``SSL_CERT_FILE``, so the bot's own
``ssl.create_default_context()`` verifies it exactly as it would a provider's.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot import imap
from bot.config import parse_config
from bot.diagnose import check_imap
from tests.servers import Dovecot

USER = "support@example.org"


@pytest.fixture(scope="module")
def tls_dovecot() -> Iterator[Dovecot]:
    server = Dovecot(tls=True)
    server.start()
    yield server
    server.close()


def _config(server: Dovecot, security: str, port: int):  # type: ignore[no-untyped-def]
    section = {**server.config_dict(USER), "security": security, "port": port}
    return parse_config(
        {
            "organisation": {"name": "ALS Worldwide", "address": USER, "reply_name": "Support"},
            "imap": section,
            "smtp": {"host": "127.0.0.1", "port": 1, "security": "none"},
        },
        environ={},
    )


@pytest.mark.parametrize("security", ["ssl", "starttls"])
def test_tls_connection_verifies_a_trusted_certificate(tls_dovecot, monkeypatch, security) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_dovecot.ca_file))
    port = tls_dovecot.imaps_port if security == "ssl" else tls_dovecot.imap_port
    client = imap.connect(_config(tls_dovecot, security, port).imap)
    try:
        assert client.select_folder("INBOX")[b"UIDVALIDITY"]
    finally:
        imap.close(client)


@pytest.mark.parametrize("security", ["ssl", "starttls"])
def test_an_untrusted_certificate_is_refused_by_default(tls_dovecot, monkeypatch, security) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    port = tls_dovecot.imaps_port if security == "ssl" else tls_dovecot.imap_port
    with pytest.raises(imap.ImapError, match="(?i)certificate"):
        imap.connect(_config(tls_dovecot, security, port).imap)


def test_check_explains_an_untrusted_certificate_and_a_tls_mismatch(tls_dovecot, monkeypatch) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    [untrusted] = check_imap(_config(tls_dovecot, "ssl", tls_dovecot.imaps_port))
    assert not untrusted.ok and "certificate is not trusted" in untrusted.detail
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_dovecot.ca_file))
    [mismatch] = check_imap(_config(tls_dovecot, "ssl", tls_dovecot.imap_port))  # plain port, TLS asked
    assert not mismatch.ok and "TLS mismatch" in mismatch.detail


def test_check_command_says_what_works_and_what_is_wrong(dovecot, smtp_relay, tmp_config) -> None:
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    good = tmp_config.write()
    out = subprocess.run(
        [sys.executable, "run.py", "--config", str(good), "check"],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "[ok] IMAP" in out.stdout and "[ok] folder INBOX" in out.stdout and "[ok] SMTP" in out.stdout

    bad = tmp_config.write(tmp_config(imap={"password": "wrong", "folder": "Inquiries"}), name="bad.yaml")
    out = subprocess.run(
        [sys.executable, "run.py", "--config", str(bad), "check"],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 1
    assert "refused the user name or password" in out.stdout
