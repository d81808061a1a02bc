"""A throwaway Debian Dovecot 2.3 (IMAP + LMTP) on free loopback ports, for the tests.

Everything lives in one temp dir: config, sockets, state, log and Maildirs.
Any user name logs in with :data:`DEFAULT_PASSWORD` (static passdb/userdb
with ``allow_all_users``), so a test can use any address without setup and
LMTP accepts mail for any recipient. Every user has ``Sent``, ``Processed``
and ``Quarantine`` besides INBOX. Needs root, like Debian's packaged Dovecot:
mail is stored as the ``mail`` user, login processes run as ``dovenull``.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import signal
import smtplib
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

from imapclient import IMAPClient

DEFAULT_PASSWORD = "secret"
# Known addresses for readable tests; any other address works the same way.
DEFAULT_USERS = (
    "support@example.org",
    "staff@example.org",
    "patient@example.com",
    "paciente@example.es",
    "paciente@example.pt",
)
AUTO_FOLDERS = ("Sent", "Processed", "Quarantine")
# Debian installs it in /usr/sbin, which a non-login PATH may lack.
DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
DOVEADM = shutil.which("doveadm") or "/usr/bin/doveadm"

# The config template beside this file; {placeholders} are filled by _write_config.
_CONFIG = (Path(__file__).with_name("dovecot.conf.in")).read_text(encoding="utf-8")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Dovecot:
    """One Dovecot instance; ports and mail stay the same across :meth:`restart`.

    Usable as a context manager (start on enter, stop and delete on exit).
    """

    def __init__(
        self,
        idle_notify_interval: int = 120,
        password: str = DEFAULT_PASSWORD,
        oauth2_introspection_url: str | None = None,
        tls: bool = False,
    ) -> None:
        """``oauth2_introspection_url`` also turns on XOAUTH2/OAUTHBEARER, checked by POSTing the
        token to that URL (Dovecot's oauth2 passdb, as with a real provider's introspection)."""
        self.host = "127.0.0.1"
        self.oauth2_introspection_url = oauth2_introspection_url
        # With ``tls``: a self-signed certificate for 127.0.0.1; IMAPS on ``imaps_port`` and
        # STARTTLS on ``imap_port``. ``ca_file`` is the certificate a client must trust.
        self.tls = tls
        self.imaps_port = free_port() if tls else 0
        self.ca_file: Path | None = None
        self.password = password
        self.imap_port = free_port()
        self.lmtp_port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="dovecot-test-"))
        # Login and internal processes run as other users and must traverse the root.
        self.root.chmod(0o755)
        self.conf = self.root / "dovecot.conf"
        self.log_path = self.root / "dovecot.log"
        self.idle_notify_interval = idle_notify_interval
        self._proc: subprocess.Popen[bytes] | None = None
        mail = pwd.getpwnam("mail")
        self._uid, self._gid = mail.pw_uid, mail.pw_gid

    # -- lifecycle -------------------------------------------------------

    def start(self, timeout: float = 15.0) -> None:
        """Start Dovecot and return once IMAP and LMTP both greet; no-op if running."""
        if self._proc is not None:
            return
        self._write_config()
        out = (self.root / "dovecot.stdout").open("ab")
        # Dovecot keeps inherited fds open for its lifetime; a pipe here would
        # hang whoever reads our stdout (CI), so only files and /dev/null.
        self._proc = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(self.conf)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        out.close()
        deadline = time.monotonic() + timeout
        for port in (self.imap_port, self.lmtp_port):
            while not _greets(self.host, port):
                if self._proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"Dovecot did not start; log:\n{self.log_tail()}")
                time.sleep(0.05)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop Dovecot cleanly (SIGTERM to the master, which ends its children)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        # The master has already told its children to stop; one still running
        # (only the log process, normally) could hold a port a restart reuses.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while _accepts(self.host, self.imap_port) and time.monotonic() < deadline:
            time.sleep(0.05)

    def restart(self) -> None:
        """Stop and start again on the same ports with the same mail."""
        self.stop()
        self.start()

    def close(self) -> None:
        """Stop and delete the temp dir."""
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Dovecot:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def reset(self) -> None:
        """Forget all mail of all users: they start again with empty folders.

        Open sessions are kicked first so that no process writes into a
        mailbox being deleted.
        """
        self.kick("*")
        mail = self.root / "mail"
        shutil.rmtree(mail, ignore_errors=True)
        mail.mkdir()
        os.chown(mail, self._uid, self._gid)

    # -- mail ------------------------------------------------------------

    def deliver(self, rcpt: str | Iterable[str], raw: bytes, mail_from: str = "sender@example.net") -> None:
        """Deliver ``raw`` over LMTP, as an MTA would; raises smtplib errors on refusal.

        Dovecot adds Return-Path/Delivered-To/Received headers to the stored copy.
        """
        rcpts = [rcpt] if isinstance(rcpt, str) else list(rcpt)
        with smtplib.LMTP(self.host, self.lmtp_port, timeout=10) as lmtp:
            # LMTP answers DATA once per recipient, which smtplib does not read:
            # one transaction per recipient keeps the replies in step.
            for one in rcpts:
                lmtp.sendmail(mail_from, [one], raw)

    def imap(self, user: str, password: str | None = None) -> IMAPClient:
        """A logged-in IMAPClient for ``user``; ``with`` logs it out at the end."""
        client = IMAPClient(self.host, self.imap_port, ssl=False, timeout=10)
        try:
            client.login(user, self.password if password is None else password)
        except Exception:
            client.shutdown()
            raise
        return client

    def append(self, user: str, folder: str, raw: bytes, flags: Iterable[str] = ()) -> int | None:
        """APPEND ``raw`` to ``folder`` with ``flags``; returns its UID (from APPENDUID)."""
        with self.imap(user) as client:
            response = client.append(folder, raw, flags=tuple(flags))
        match = re.search(rb"APPENDUID \d+ (\d+)", response or b"")
        return int(match.group(1)) if match else None

    def messages(self, user: str, folder: str = "INBOX") -> list[tuple[int, tuple[str, ...], bytes]]:
        """Every message in ``folder`` as (uid, flags, raw bytes), by UID; \\Seen is not set."""
        with self.imap(user) as client:
            client.select_folder(folder, readonly=True)
            uids = client.search("ALL")
            if not uids:
                return []
            data = client.fetch(uids, ["FLAGS", "BODY.PEEK[]"])
        return [
            (uid, tuple(_text(f) for f in item[b"FLAGS"]), item[b"BODY[]"])
            for uid, item in sorted(data.items())
        ]

    def wait_for_messages(
        self, user: str, count: int = 1, folder: str = "INBOX", timeout: float = 10.0
    ) -> list[tuple[int, tuple[str, ...], bytes]]:
        """Poll until ``folder`` holds at least ``count`` messages; raises TimeoutError."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.messages(user, folder)
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(found)} of {count} messages in {folder} after {timeout}s")
            time.sleep(0.1)

    def uidvalidity(self, user: str, folder: str = "INBOX") -> int:
        """The folder's current UIDVALIDITY."""
        with self.imap(user) as client:
            return int(client.folder_status(folder, [b"UIDVALIDITY"])[b"UIDVALIDITY"])

    def set_uidvalidity(self, user: str, folder: str, value: int) -> None:
        """Set UIDVALIDITY to ``value``; messages keep their UIDs (doveadm mailbox update)."""
        self.doveadm("mailbox", "update", "-u", user, "--uid-validity", str(value), folder)

    def force_uidvalidity_change(self, user: str, folder: str = "INBOX") -> int:
        """Make Dovecot rebuild ``folder``'s UID list, as after a server migration.

        The messages stay but get a new UIDVALIDITY and are renumbered from
        UID 1. Returns the new UIDVALIDITY. The user's sessions are kicked.
        """
        before = self.uidvalidity(user, folder)
        self.kick(user)
        maildir = self.root / "mail" / user.lower() / "Maildir"
        box = maildir if folder.upper() == "INBOX" else maildir / ("." + folder.replace("/", "."))
        # Without the uidlist and indexes Dovecot assigns fresh UIDs and a new,
        # larger UIDVALIDITY (it remembers the last one in dovecot-uidvalidity).
        for stale in [
            box / "dovecot-uidlist",
            *box.glob("dovecot.index*"),
            *maildir.glob("dovecot.list.index*"),
        ]:
            stale.unlink(missing_ok=True)
        after = self.uidvalidity(user, folder)
        if after == before:
            raise RuntimeError("Dovecot kept the same UIDVALIDITY")
        return after

    # -- helpers ---------------------------------------------------------

    def kick(self, mask: str, timeout: float = 5.0) -> None:
        """Disconnect the IMAP sessions of users matching ``mask`` (``*`` for all); waits until gone.

        A session closing later could write its old indexes back over a change.
        """
        if not self.running:
            return
        self.doveadm("kick", mask, check=False)
        deadline = time.monotonic() + timeout
        # `who -1` prints a header line, then one line per remaining session.
        while len(self.doveadm("who", "-1", mask, check=False).stdout.strip().splitlines()) > 1:
            if time.monotonic() > deadline:
                raise TimeoutError(f"sessions of {mask} still open after {timeout}s")
            time.sleep(0.05)

    def config_dict(self, user: str = "support@example.org") -> dict[str, object]:
        """The ``imap:`` section of our config for logging in as ``user``."""
        return {
            "host": self.host,
            "port": self.imap_port,
            "security": "none",
            "username": user,
            "password": self.password,
            "folder": "INBOX",
            "timeout": 10.0,
        }

    def doveadm(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run ``doveadm`` against this instance; raises with its stderr when it fails."""
        result = subprocess.run(
            [DOVEADM, "-c", str(self.conf), *args],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=30,
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"doveadm {args[0]} failed ({result.returncode}): {result.stderr.strip()}")
        return result

    def log_tail(self, lines: int = 40) -> str:
        """The end of Dovecot's log, for failure messages."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def _write_config(self) -> None:
        for sub in ("run", "state", "mail"):
            (self.root / sub).mkdir(exist_ok=True)
        os.chown(self.root / "mail", self._uid, self._gid)
        folders = "\n".join(
            f"  mailbox {name} {{\n    auto = create\n"
            + ("    special_use = \\Sent\n" if name == "Sent" else "")
            + "  }"
            for name in AUTO_FOLDERS
        )
        self.conf.write_text(
            _CONFIG.format(
                root=self.root,
                imap_port=self.imap_port,
                lmtp_port=self.lmtp_port,
                uid=self._uid,
                gid=self._gid,
                password=self.password,
                idle_notify=self.idle_notify_interval,
                folders=folders,
                imaps_port=self.imaps_port,
                ssl_settings=self._ssl_settings(),
                **self._oauth2_settings(),
            )
        )

    def _ssl_settings(self) -> str:
        if not self.tls:
            return "ssl = no"
        if self.ca_file is None:
            from tests.servers.smtp import _self_signed

            tls_dir = self.root / "tls"
            tls_dir.mkdir(exist_ok=True)
            cert, key = _self_signed(tls_dir)
            os.chmod(key, 0o600)
            self.ca_file = cert
        return f"ssl = yes\nssl_cert = <{self.ca_file}\nssl_key = <{self.ca_file.with_name('key.pem')}"

    def _oauth2_settings(self) -> dict[str, str]:
        if not self.oauth2_introspection_url:
            return {"extra_mechanisms": "", "oauth2_passdb": ""}
        ext = self.root / "dovecot-oauth2.conf.ext"
        ext.write_text(
            "introspection_mode = post\n"
            f"introspection_url = {self.oauth2_introspection_url}\n"
            "username_attribute = username\n"
            "active_attribute = active\n"
            "active_value = true\n"
            "force_introspection = yes\n",
            encoding="utf-8",
        )
        passdb = f"passdb {{\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n  args = {ext}\n}}\n"
        return {"extra_mechanisms": " xoauth2 oauthbearer", "oauth2_passdb": passdb}


def _greets(host: str, port: int) -> bool:
    """True when something on ``port`` accepts a connection and sends a greeting line."""
    try:
        with socket.create_connection((host, port), timeout=1) as sock:
            return bool(sock.recv(64))
    except OSError:
        return False


def _accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
