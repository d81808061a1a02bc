"""Real mail servers on 127.0.0.1 for the tests: Dovecot (IMAP + LMTP) and an SMTP relay.

No server is mocked: the bot talks to a real Dovecot and a real SMTP server,
each on a free unprivileged loopback port, so what passes here is what
happens against a provider.
"""

from __future__ import annotations

from .dovecot import DEFAULT_PASSWORD, DEFAULT_USERS, Dovecot, free_port
from .smtp import Received, SmtpRelay

__all__ = ["DEFAULT_PASSWORD", "DEFAULT_USERS", "Dovecot", "Received", "SmtpRelay", "free_port"]
