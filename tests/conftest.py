"""Real-server fixtures shared by every test: Dovecot, the SMTP relay and a config built on them.

Only server fixtures live here; fixtures for one area belong in that
folder's own conftest.py.

- ``dovecot_server`` (session): one Dovecot for the whole run.
- ``dovecot`` (function): the same server with every mailbox emptied first,
  so each test starts from empty folders without paying for a restart.
- ``smtp_relay`` (function): SMTP on loopback relaying into ``dovecot``.
- ``smtp_relay_factory`` (function): the same with AUTH and/or STARTTLS.
- ``postgres_server`` (session): PostgreSQL from Debian's packages.
- ``tmp_config`` (function): a factory for a full config mapping for
  :func:`bot.config.parse_config` pointing at those servers.
"""

from __future__ import annotations

import copy
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
# `python -m pytest` puts the repository on sys.path, a bare `pytest` does not;
# `tests.servers` must import the same way in both.
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.servers import Dovecot, SmtpRelay, free_port  # noqa: E402
from tests.servers.dovecot import DOVECOT  # noqa: E402
from tests.servers.postgres import Postgres  # noqa: E402


@pytest.fixture(scope="session")
def dovecot_server() -> Iterator[Dovecot]:
    """The session's Dovecot. Prefer ``dovecot``, which also empties the mailboxes."""
    # Never skipped: a missing server is a broken set-up, and .ci/run installs it.
    if not Path(DOVECOT).exists():
        pytest.fail("Dovecot is not installed: apt-get install dovecot-imapd dovecot-lmtpd (.ci/run does)")
    # A short notify interval keeps IDLE connections visibly alive in tests.
    server = Dovecot(idle_notify_interval=5)
    server.start()
    yield server
    server.close()


@pytest.fixture
def dovecot(dovecot_server: Dovecot) -> Dovecot:
    """The running Dovecot with every user's folders empty (INBOX, Sent, Processed, Quarantine).

    Any address logs in with password ``secret``. A test that stopped the
    server gets it started again here.
    """
    if not dovecot_server.running:
        dovecot_server.start()
    dovecot_server.reset()
    return dovecot_server


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Postgres]:
    """A PostgreSQL server from Debian's packages for the session; ``new_database()`` per test."""
    server = Postgres()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def smtp_relay_factory(
    dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., SmtpRelay]]:
    """``make(auth=False, starttls=False, username=..., password=...)`` starts an SmtpRelay into Dovecot.

    With ``starttls`` the relay's self-signed certificate becomes the trusted
    CA for this test (``SSL_CERT_FILE``), so ``ssl.create_default_context()``
    in the bot verifies it as it would a provider's.
    """
    started: list[SmtpRelay] = []

    def make(**kwargs: Any) -> SmtpRelay:
        relay = SmtpRelay(dovecot, **kwargs)
        relay.start()
        started.append(relay)
        if relay.ca_file is not None:
            monkeypatch.setenv("SSL_CERT_FILE", str(relay.ca_file))
        return relay

    yield make
    for relay in started:
        relay.stop()


@pytest.fixture
def smtp_relay(smtp_relay_factory: Callable[..., SmtpRelay]) -> SmtpRelay:
    """A plain SMTP relay (no AUTH, no TLS) on loopback, delivering into ``dovecot``."""
    return smtp_relay_factory()


class ConfigFactory:
    """Builds config mappings; each call deep-merges its overrides into the base."""

    def __init__(self, base: dict[str, Any], directory: Path) -> None:
        self.base = base
        self.directory = directory

    def __call__(self, **overrides: Any) -> dict[str, Any]:
        """A new config mapping: ``tmp_config(imap={"processed_folder": "Processed"})``."""
        return _merge(copy.deepcopy(self.base), overrides)

    def write(self, data: dict[str, Any] | None = None, name: str = "bot.yaml") -> Path:
        """Write ``data`` (default: the base config) as YAML in the test's temp dir; returns the path."""
        path = self.directory / name
        path.write_text(yaml.safe_dump(self() if data is None else data, sort_keys=False), encoding="utf-8")
        return path


@pytest.fixture
def tmp_config(dovecot: Dovecot, smtp_relay: SmtpRelay, tmp_path: Path) -> ConfigFactory:
    """Factory for a full config for ``bot.config.parse_config`` on the test servers.

    The bot is support@example.org on both servers; the database is
    ``sqlite:///<tmp>/bot.db``; rules and replies are the repository's;
    packets go to a temp dir; the schedule runs every second.
    """
    packets = tmp_path / "packets"
    packets.mkdir()
    base = {
        "organisation": {
            "name": "ALS Worldwide",
            "address": "support@example.org",
            "reply_name": "ALS Worldwide support team",
        },
        "imap": dovecot.config_dict("support@example.org"),
        "smtp": smtp_relay.config_dict(),
        "database": {"url": f"sqlite:///{tmp_path / 'bot.db'}"},
        "schedule": {"fetch_seconds": 1, "send_seconds": 1},
        "paths": {
            "rules": str(REPO / "rules.yaml"),
            "replies": str(REPO / "replies"),
            "packets": str(packets),
        },
        "web": {"host": "127.0.0.1", "port": free_port(), "secret_key": "test-secret-key"},
    }
    return ConfigFactory(base, tmp_path)


def _merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    # Nested sections merge key by key, so an override names only what it changes;
    # None removes a key or section (e.g. imap=None for a maildir config).
    for key, value in overrides.items():
        if value is None:
            base.pop(key, None)
        elif isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value
    return base
