"""``check``: connect with the configured settings and say in plain words what works and what is wrong."""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass

from bot import imap, smtp
from bot.config import Config


@dataclass(frozen=True)
class Finding:
    ok: bool
    what: str
    detail: str

    def __str__(self) -> str:
        return f"[{'ok' if self.ok else 'PROBLEM'}] {self.what}: {self.detail}"


def _explain(exc: BaseException, host: str, port: int, security: str) -> str:
    text = str(exc)
    if isinstance(exc, socket.gaierror) or "Name or service not known" in text:
        return f"the host name {host!r} does not resolve: check the spelling"
    if isinstance(exc, ConnectionRefusedError) or "Connection refused" in text:
        return f"nothing listens on {host}:{port}: check the port"
    if isinstance(exc, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in text:
        return "the server's TLS certificate is not trusted (self-signed or wrong host name)"
    if isinstance(exc, ssl.SSLError) or "WRONG_VERSION_NUMBER" in text or "EOF occurred" in text:
        other = "starttls" if security == "ssl" else "ssl"
        return f"TLS mismatch: the server does not speak {security} on port {port}; try security: {other}"
    if isinstance(exc, TimeoutError | socket.timeout) or "timed out" in text:
        return f"no answer from {host}:{port} (a firewall, or the wrong port)"
    if "AUTHENTICATIONFAILED" in text or "Authentication failed" in text or "login" in text.lower():
        return "the server refused the user name or password"
    return text


def check_imap(config: Config) -> list[Finding]:
    cfg = config.imap
    if config.mailbox.kind == "maildir" or cfg is None:
        path = config.mailbox.maildir
        ok = (path / "new").is_dir() and (path / "cur").is_dir()
        return [
            Finding(
                ok, "Maildir inbox", f"{path} {'is a Maildir' if ok else 'is not a Maildir (no new/ cur/)'}"
            )
        ]
    findings = []
    try:
        client = imap.connect(cfg)
    except imap.ImapError as exc:
        cause = exc.__cause__ or exc
        return [
            Finding(False, f"IMAP {cfg.host}:{cfg.port}", _explain(cause, cfg.host, cfg.port, cfg.security))
        ]
    try:
        findings.append(Finding(True, f"IMAP {cfg.host}:{cfg.port}", f"logged in as {cfg.username}"))
        folders = [name for _flags, _delim, name in client.list_folders()]
        if cfg.folder in folders:
            info = client.select_folder(cfg.folder, readonly=True)
            findings.append(Finding(True, f"folder {cfg.folder}", f"{info.get(b'EXISTS', 0)} messages"))
        else:
            findings.append(
                Finding(False, f"folder {cfg.folder}", f"missing; the server has: {', '.join(folders)}")
            )
        if cfg.processed_folder and cfg.processed_folder not in folders:
            findings.append(
                Finding(False, f"folder {cfg.processed_folder}", "processed_folder does not exist")
            )
        has_idle = b"IDLE" in client.capabilities()
        findings.append(
            Finding(
                True,
                "IDLE",
                "supported: new mail is fetched at once"
                if has_idle
                else "not supported: new mail waits for the polling interval",
            )
        )
    finally:
        imap.close(client)
    return findings


def check_smtp(config: Config) -> list[Finding]:
    cfg = config.smtp
    conn = None
    try:
        conn = smtp.connect(cfg, config.imap.oauth2 if config.imap else None)
        conn.noop()
        who = f"logged in as {cfg.username}" if cfg.username else "connected (no login configured)"
        return [Finding(True, f"SMTP {cfg.host}:{cfg.port}", who)]
    except Exception as exc:  # noqa: BLE001 - every failure is explained, none is fatal here
        return [
            Finding(False, f"SMTP {cfg.host}:{cfg.port}", _explain(exc, cfg.host, cfg.port, cfg.security))
        ]
    finally:
        if conn is not None:
            try:
                conn.quit()
            except Exception:  # noqa: BLE001
                conn.close()


def check_all(config: Config) -> list[Finding]:
    """Every finding for the mailbox and SMTP settings of ``config``."""
    return [*check_imap(config), *check_smtp(config)]
