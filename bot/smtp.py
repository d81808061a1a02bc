"""Sending one message over SMTP, telling temporary failures from permanent ones."""

from __future__ import annotations

import smtplib
import ssl

from bot import oauth2
from bot.config import OAuth2, Smtp


class SmtpTemporaryError(Exception):
    """Try again later: a 4xx reply, or the server could not be reached."""


class SmtpPermanentError(Exception):
    """Do not retry: a 5xx reply; staff must look at it."""


def connect(cfg: Smtp, oauth: OAuth2 | None = None) -> smtplib.SMTP:
    """An open, logged-in SMTP connection (TLS as configured, certificates checked)."""
    ctx = ssl.create_default_context()
    if cfg.security == "ssl":
        conn: smtplib.SMTP = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=cfg.timeout, context=ctx)
    else:
        conn = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout)
    conn.ehlo()
    if cfg.security == "starttls":
        conn.starttls(context=ctx)
        conn.ehlo()
    if cfg.auth == "xoauth2" and oauth is not None:
        token = oauth2.access_token(oauth, timeout=cfg.timeout)
        conn.auth("XOAUTH2", lambda challenge=None: oauth2.xoauth2_string(cfg.username, token))
    elif cfg.username:
        conn.login(cfg.username, cfg.password)
    return conn


def send(cfg: Smtp, raw: bytes, sender: str, recipients: list[str], oauth: OAuth2 | None = None) -> None:
    """Send ``raw`` as-is to ``recipients``; raises one of the two errors above on failure.

    ``oauth`` holds the XOAUTH2 settings when ``cfg.auth`` is ``xoauth2``.
    """
    try:
        conn = connect(cfg, oauth)
    except smtplib.SMTPAuthenticationError as exc:
        raise SmtpPermanentError(f"SMTP login refused: {exc.smtp_code} {_text(exc.smtp_error)}") from exc
    except oauth2.OAuth2Error as exc:
        raise SmtpTemporaryError(str(exc)) from exc
    except (OSError, smtplib.SMTPException) as exc:
        raise SmtpTemporaryError(f"cannot reach SMTP {cfg.host}:{cfg.port}: {exc}") from exc
    try:
        refused = conn.sendmail(sender, recipients, raw)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        raise _by_code(min(codes), f"recipient refused ({', '.join(map(str, codes))})") from exc
    except smtplib.SMTPResponseException as exc:
        raise _by_code(exc.smtp_code, _text(exc.smtp_error)) from exc
    except (OSError, smtplib.SMTPException) as exc:
        raise SmtpTemporaryError(f"SMTP connection failed while sending: {exc}") from exc
    finally:
        try:
            conn.quit()
        except (OSError, smtplib.SMTPException):
            conn.close()
    if refused:
        codes = [code for code, _ in refused.values()]
        raise _by_code(min(codes), "some recipients were refused")


def _by_code(code: int, text: str) -> Exception:
    if 400 <= code < 500:
        return SmtpTemporaryError(f"SMTP {code}: {text}")
    return SmtpPermanentError(f"SMTP {code}: {text}")


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
