"""Passwords, CSRF tokens, the login rate limit and the secret key.

Contracts:

* :func:`hash_password` / :func:`verify_password` use argon2id (argon2-cffi's
  defaults); a hash made with older parameters is re-hashed on the next
  successful login (:func:`needs_rehash`).
* :func:`csrf_token` gives the session's token (made on first use);
  :func:`check_csrf` aborts with 403 unless a POST carries that token in the
  form field ``csrf_token`` (or the ``X-CSRF-Token`` header).
* :class:`LoginLimiter` refuses a username or an address after ``limit``
  failures within ``window``; it lives in memory (one waitress process), so a
  restart clears it, which only ever makes it more lenient.
* :func:`load_secret_key` returns the configured key or one kept in a 0600
  file under ``var/``, never in the repository.
"""

from __future__ import annotations

import hmac
import os
import secrets
import threading
import time
from collections import defaultdict, deque
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import abort, request, session

_hasher = PasswordHasher()
# Verified against when the username does not exist, so a wrong name takes as
# long as a wrong password and names cannot be guessed from timing.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))

MIN_PASSWORD_LENGTH = 10
CSRF_FIELD = "csrf_token"


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``, with its own random salt."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; a missing or damaged hash never matches."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def password_problem(password: str) -> str | None:
    """Why a new password is refused, in plain words, or None when it is fine."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"The password must be at least {MIN_PASSWORD_LENGTH} characters long."
    if password.strip() != password:
        return "The password must not start or end with a space."
    return None


def csrf_token() -> str:
    """The CSRF token of this browser session, made on first use."""
    token = session.get(CSRF_FIELD)
    if not token:
        token = secrets.token_urlsafe(32)
        session[CSRF_FIELD] = token
    return token


def check_csrf() -> None:
    """Abort with 403 when a state-changing request lacks the session's CSRF token."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    expected = session.get(CSRF_FIELD)
    sent = request.form.get(CSRF_FIELD) or request.headers.get("X-CSRF-Token")
    if not expected or not sent or not hmac.compare_digest(str(expected), str(sent)):
        abort(403, description="This form has expired. Go back, reload the page and try again.")


class LoginLimiter:
    """Counts failed logins per key (``user:NAME``, ``ip:ADDR``) in a sliding window.

    Thread-safe: waitress serves requests on several threads.
    """

    def __init__(self, limit: int = 5, window: float = 15 * 60, clock=time.monotonic) -> None:  # type: ignore[no-untyped-def]
        self.limit, self.window, self._clock = limit, window, clock
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _prune(self, key: str, now: float) -> deque[float]:
        times = self._failures[key]
        while times and now - times[0] > self.window:
            times.popleft()
        if not times:
            del self._failures[key]
        return times

    def blocked(self, *keys: str) -> bool:
        """Whether any of ``keys`` has reached the limit within the window."""
        now = self._clock()
        with self._lock:
            return any(len(self._prune(k, now)) >= self.limit for k in keys)

    def fail(self, *keys: str) -> None:
        now = self._clock()
        with self._lock:
            for key in keys:
                self._failures[key].append(now)

    def reset(self, *keys: str) -> None:
        """Forget the failures of ``keys`` (after a successful login for that name)."""
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)


def load_secret_key(configured: str, key_file: Path) -> str:
    """``configured`` when set, else the key in ``key_file``, made (0600) on first start."""
    if configured:
        return configured
    try:
        return key_file.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return key_file.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key + "\n")
    return key
