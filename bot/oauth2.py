"""OAuth2 access tokens for XOAUTH2 (Gmail and Microsoft 365 refuse passwords).

A long-lived refresh token (from the environment, never the repository) is
exchanged at the provider's token endpoint for an access token, which is
cached until shortly before it expires. The token never appears in logs.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

from bot.config import OAuth2


class OAuth2Error(Exception):
    """The token endpoint refused or could not be reached."""


_cache: dict[tuple[str, str, str], tuple[str, float]] = {}
_lock = threading.Lock()
EARLY = 60.0  # renew this many seconds before expiry, so a token never dies mid-session


def access_token(cfg: OAuth2, *, timeout: float = 30.0) -> str:
    """A valid access token for ``cfg``, refreshed when the cached one is about to expire."""
    key = (cfg.endpoint(), cfg.client_id, cfg.refresh_token)
    with _lock:
        cached = _cache.get(key)
        if cached and cached[1] - EARLY > time.monotonic():
            return cached[0]
    form = {
        "grant_type": "refresh_token",
        "refresh_token": cfg.refresh_token,
        "client_id": cfg.client_id,
        "client_secret": cfg.client_secret,
    }
    if cfg.scope:
        form["scope"] = cfg.scope
    request = urllib.request.Request(
        cfg.endpoint(),
        data=urllib.parse.urlencode({k: v for k, v in form.items() if v}).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - configured URL
            body = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        detail = _error_text(exc)
        raise OAuth2Error(f"token endpoint refused the refresh token (HTTP {exc.code}: {detail})") from exc
    except (OSError, ValueError) as exc:
        raise OAuth2Error(f"cannot reach the token endpoint: {exc}") from exc
    token = body.get("access_token")
    if not token:
        raise OAuth2Error("token endpoint answered without an access_token")
    expires = time.monotonic() + float(body.get("expires_in", 3600))
    with _lock:
        _cache[key] = (token, expires)
    return token


def _error_text(exc: urllib.error.HTTPError) -> str:
    try:
        body = json.loads(exc.read())
        return str(body.get("error_description") or body.get("error") or "")[:200]
    except (OSError, ValueError):
        return ""


def xoauth2_string(username: str, token: str) -> str:
    """The SASL XOAUTH2 initial response (RFC-less, as Google and Microsoft document it)."""
    return f"user={username}\x01auth=Bearer {token}\x01\x01"
