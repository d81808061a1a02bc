"""Connecting to the IMAP server: TLS with certificate checks by default.

``security: none`` is meant for a server on loopback (tests, a bot on the
mail host); anything else gets certificates checked by the system's CA store.
"""

from __future__ import annotations

import contextlib
import ssl

from imapclient import IMAPClient

from bot import oauth2
from bot.config import Imap


class ImapError(Exception):
    """The IMAP server could not be reached or refused us; the message says which in plain words."""


def tls_context() -> ssl.SSLContext:
    """A client TLS context with certificate and host-name checks on."""
    return ssl.create_default_context()


def connect(cfg: Imap) -> IMAPClient:
    """A logged-in client for ``cfg``; raises :class:`ImapError` with a readable reason."""
    try:
        client = IMAPClient(
            cfg.host,
            port=cfg.port,
            ssl=cfg.security == "ssl",
            ssl_context=tls_context() if cfg.security == "ssl" else None,
            timeout=cfg.timeout,
        )
    except (OSError, ssl.SSLError) as exc:
        raise ImapError(f"cannot connect to IMAP {cfg.host}:{cfg.port} ({cfg.security}): {exc}") from exc
    try:
        if cfg.security == "starttls":
            client.starttls(tls_context())
        if cfg.auth == "xoauth2":
            client.oauth2_login(cfg.username, oauth2.access_token(cfg.oauth2, timeout=cfg.timeout))
        else:
            client.login(cfg.username, cfg.password)
    except Exception as exc:
        _close_quietly(client)
        raise ImapError(f"IMAP login as {cfg.username!r} failed: {exc}") from exc
    return client


def _close_quietly(client: IMAPClient) -> None:
    try:
        client.logout()
    except Exception:  # noqa: BLE001 - the connection is being abandoned anyway
        with contextlib.suppress(Exception):
            client.shutdown()


def close(client: IMAPClient | None) -> None:
    """Log out, ignoring a connection that is already gone."""
    if client is not None:
        _close_quietly(client)


def source_name(cfg: Imap, folder: str | None = None) -> str:
    """The ledger's name for a folder: ``imap:user@host:port/FOLDER``."""
    return f"imap:{cfg.username}@{cfg.host}:{cfg.port}/{folder or cfg.folder}"
