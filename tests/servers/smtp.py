"""A real SMTP server on a free loopback port (aiosmtpd) that records and relays mail.

Each accepted message is recorded and, when a :class:`Dovecot` is given,
delivered over LMTP to each recipient, so a test reads the bot's reply from
the patient's IMAP inbox like the patient would. Failures can be scripted
(``fail_next``) for the outbox's retry tests. Optional AUTH (PLAIN, LOGIN,
over plain loopback) and STARTTLS with a self-signed certificate made at
test time; :attr:`SmtpRelay.ca_file` is that certificate, for clients to trust.
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl
import subprocess
import tempfile
import threading
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from .dovecot import DEFAULT_PASSWORD, Dovecot, free_port

Stage = Literal["MAIL", "RCPT", "DATA"]

# AUTH without TLS is deliberate here (loopback only); aiosmtpd warns on every connection.
warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS", category=UserWarning)


@dataclass(frozen=True)
class Received:
    """One message the relay accepted: the envelope and the exact bytes sent."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes
    login: str | None  # the AUTH user name, None when the client did not log in
    tls: bool  # True when the message came over STARTTLS


class SmtpRelay:
    """An SMTP server on 127.0.0.1; ``start``/``stop`` or use it as a context manager."""

    def __init__(
        self,
        dovecot: Dovecot | None = None,
        *,
        auth: bool = False,
        starttls: bool = False,
        username: str = "support@example.org",
        password: str = DEFAULT_PASSWORD,
    ) -> None:
        self.host = "127.0.0.1"
        self.port = free_port()
        self.dovecot = dovecot
        self.auth = auth
        self.starttls = starttls
        self.username = username
        self.password = password
        self.ca_file: Path | None = None
        self._lock = threading.Lock()
        self._received: list[Received] = []
        self._failures: list[tuple[Stage, int, str]] = []
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._controller: Controller | None = None

    def start(self) -> None:
        """Listen; returns once the server answers."""
        kwargs: dict[str, Any] = {}
        if self.auth:
            # Over STARTTLS, AUTH is refused before TLS like a real submission server;
            # without it, AUTH on plain loopback is allowed so logins can be tested.
            kwargs.update(
                authenticator=self._authenticate, auth_required=True, auth_require_tls=self.starttls
            )
        if self.starttls:
            self._tmp = tempfile.TemporaryDirectory(prefix="smtp-test-")
            cert, key = _self_signed(Path(self._tmp.name))
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(cert, key)
            self.ca_file = cert
            kwargs.update(tls_context=context, require_starttls=True)
        self._controller = Controller(_Handler(self), hostname=self.host, port=self.port, **kwargs)
        self._controller.start()

    def stop(self) -> None:
        """Stop listening and remove the certificate."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> SmtpRelay:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what the tests use ------------------------------------------------

    @property
    def received(self) -> list[Received]:
        """A copy of every message accepted so far, oldest first."""
        with self._lock:
            return list(self._received)

    def wait_for(self, count: int = 1, timeout: float = 10.0) -> list[Received]:
        """Wait until at least ``count`` messages were accepted; raises TimeoutError."""
        deadline = time.monotonic() + timeout
        while len(found := self.received) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(found)} of {count} messages after {timeout}s")
            time.sleep(0.05)
        return found

    def fail_next(self, code: int = 451, text: str = "try later", count: int = 1, at: Stage = "DATA") -> None:
        """Answer the next ``count`` ``at`` commands (MAIL, RCPT or DATA) with ``code text``.

        A failed message is not recorded nor relayed. Use 4xx for temporary
        and 5xx for permanent failures.
        """
        if not 400 <= code < 600:
            raise ValueError("a failure code is 4xx or 5xx")
        with self._lock:
            self._failures.extend([(at, code, text)] * count)

    def config_dict(self) -> dict[str, object]:
        """The ``smtp:`` section of our config for this server."""
        return {
            "host": self.host,
            "port": self.port,
            "security": "starttls" if self.starttls else "none",
            "username": self.username if self.auth else "",
            "password": self.password if self.auth else "",
            "timeout": 10.0,
        }

    # -- server side -------------------------------------------------------

    def _scripted_failure(self, stage: Stage) -> str | None:
        with self._lock:
            for i, (at, code, text) in enumerate(self._failures):
                if at == stage:
                    del self._failures[i]
                    return f"{code} {text}"
        return None

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: object
    ) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == self.username
            and auth_data.password.decode() == self.password
        )
        if not ok:
            # handled=False makes aiosmtpd answer 535; the default leaves the client waiting.
            return AuthResult(success=False, handled=False)
        return AuthResult(success=True, auth_data=auth_data.login.decode())  # type: ignore[union-attr]

    def _accept(self, session: Session, envelope: Envelope) -> None:
        raw = envelope.original_content
        assert isinstance(raw, bytes)
        rcpts = tuple(envelope.rcpt_tos)
        if self.dovecot is not None:
            self.dovecot.deliver(rcpts, raw, mail_from=envelope.mail_from or "")
        login = session.auth_data if session.authenticated else None
        with self._lock:
            self._received.append(
                Received(envelope.mail_from or "", rcpts, raw, login, session.ssl is not None)
            )


class _Handler:
    """aiosmtpd hooks: scripted failures at each stage, then record and relay."""

    def __init__(self, relay: SmtpRelay) -> None:
        self.relay = relay

    async def handle_MAIL(self, server, session, envelope, address, mail_options):  # noqa: ANN001, ANN201
        if failure := self.relay._scripted_failure("MAIL"):
            return failure
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: ANN001, ANN201
        if failure := self.relay._scripted_failure("RCPT"):
            return failure
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201
        if failure := self.relay._scripted_failure("DATA"):
            return failure
        try:
            # LMTP is blocking; keep the server's event loop free meanwhile.
            await asyncio.get_running_loop().run_in_executor(None, self.relay._accept, session, envelope)
        except Exception as exc:  # a relay that cannot store the mail defers it, like a real MTA
            return f"451 4.3.0 could not deliver to the mailbox ({type(exc).__name__})"
        return "250 OK"


def _self_signed(directory: Path) -> tuple[Path, Path]:
    """Write a certificate for 127.0.0.1 and localhost and its key; returns (cert, key).

    Uses the ``cryptography`` package when installed (it is not one of our
    dependencies), else the ``openssl`` command, which Dovecot's package pulls in.
    """
    try:
        from cryptography import x509
    except ImportError:
        return _self_signed_openssl(directory)
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


def _self_signed_openssl(directory: Path) -> tuple[Path, Path]:
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        + ["-keyout", str(key_path), "-out", str(cert_path), "-days", "1", "-subj", "/CN=localhost"]
        + ["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"]
        + ["-addext", "basicConstraints=critical,CA:TRUE"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        check=True,
        timeout=30,
    )
    return cert_path, key_path
