"""The one configuration schema: every key, its default and its meaning.

The file is YAML, ``config/bot.yaml`` by default, another with ``--config
PATH`` or the ``BOT_CONFIG`` environment variable. Secrets may instead come
from the environment (``BOT_IMAP_PASSWORD``, ``BOT_SMTP_PASSWORD``,
``BOT_SECRET_KEY``, ``BOT_OAUTH2_CLIENT_SECRET``, ``BOT_OAUTH2_REFRESH_TOKEN``)
so that they never need to live in the repository. ``python -m bot.config``
prints the README's table of keys.

A missing or wrong key is refused at start with the key's dotted name and
what was expected (:class:`ConfigError`). The README's configuration table
is checked against this schema by a test, so a key cannot go undocumented.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

DEFAULT_CONFIG_PATH = Path("config/bot.yaml")

Security = Literal["ssl", "starttls", "none"]


class _Section(BaseModel):
    # Unknown keys are refused: a typo in a key must not silently keep a default.
    model_config = ConfigDict(extra="forbid", frozen=True)


class Organisation(_Section):
    name: str = Field(description="The organisation's name, used in replies and packets.")
    address: str = Field(description="The inquiry address replies are sent from (and never answered).")
    reply_name: str = Field(description="The display name replies are signed and sent with.")
    other_addresses: list[str] = Field(
        default_factory=list, description="More of our own addresses whose mail is never answered."
    )

    @field_validator("address")
    @classmethod
    def _is_address(cls, value: str) -> str:
        if "@" not in value or value.startswith("@") or value.endswith("@"):
            raise ValueError("expected an email address like support@example.org")
        return value

    @property
    def domain(self) -> str:
        return self.address.rsplit("@", 1)[1]


class OAuth2(_Section):
    """XOAUTH2 for providers that refuse passwords (Gmail, Microsoft 365): a refresh token is
    exchanged for short-lived access tokens at ``token_url``."""

    provider: Literal["google", "microsoft", "custom"] = Field(
        "custom", description="google or microsoft fill in token_url; custom needs token_url."
    )
    tenant: str = Field("common", description="Microsoft 365 tenant id or domain (microsoft only).")
    token_url: str = Field("", description="OAuth2 token endpoint (custom provider).")
    client_id: str = Field("", description="OAuth2 client id of the registered application.")
    client_secret: str = Field("", description="OAuth2 client secret; or set BOT_OAUTH2_CLIENT_SECRET.")
    refresh_token: str = Field("", description="Long-lived refresh token; or set BOT_OAUTH2_REFRESH_TOKEN.")
    scope: str = Field("", description="Scope asked for with each refresh; empty for the provider's default.")

    def endpoint(self) -> str:
        if self.provider == "google":
            return self.token_url or "https://oauth2.googleapis.com/token"
        if self.provider == "microsoft":
            return self.token_url or f"https://login.microsoftonline.com/{self.tenant}/oauth2/v2.0/token"
        return self.token_url


class Imap(_Section):
    host: str = Field(description="IMAP server host name.")
    port: int = Field(993, description="IMAP port: 993 for ssl, 143 for starttls or none.")
    security: Security = Field("ssl", description="ssl, starttls or none (none only on loopback).")
    username: str = Field(description="IMAP login name.")
    password: str = Field("", description="IMAP password; or set BOT_IMAP_PASSWORD.")
    auth: Literal["password", "xoauth2"] = Field("password", description="password, or xoauth2 (see oauth2).")
    oauth2: OAuth2 = OAuth2()
    folder: str = Field("INBOX", description="The folder inquiries arrive in.")
    processed_folder: str = Field(
        "", description="Move handled mail here after it is stored; empty keeps it in place (flagged)."
    )
    quarantine_folder: str = Field(
        "", description="Move mail the bot could not handle here after it is stored; empty keeps it in place."
    )
    batch_size: int = Field(100, ge=1, description="How many messages one FETCH asks for.")
    timeout: float = Field(30.0, gt=0, description="Seconds before a silent connection is given up.")


class Smtp(_Section):
    host: str = Field(description="SMTP server host name.")
    port: int = Field(587, description="SMTP port: 587 for starttls, 465 for ssl.")
    security: Security = Field("starttls", description="ssl, starttls or none (none only on loopback).")
    username: str = Field("", description="SMTP login name; empty sends without logging in.")
    password: str = Field("", description="SMTP password; or set BOT_SMTP_PASSWORD.")
    auth: Literal["password", "xoauth2"] = Field(
        "password", description="password, or xoauth2 with the imap.oauth2 settings."
    )
    timeout: float = Field(30.0, gt=0, description="Seconds before a silent connection is given up.")


class Mailbox(_Section):
    kind: Literal["imap", "maildir"] = Field(
        "imap",
        description="Where inquiries arrive: imap, or a local maildir (a bot on the mail host, the demo).",
    )
    maildir: Path = Field(Path("var/maildir"), description="The Maildir read when kind is maildir.")


class Database(_Section):
    url: str = Field("sqlite:///var/bot.db", description="SQLAlchemy URL: sqlite:///path or postgresql://...")


class Languages(_Section):
    supported: list[str] = Field(
        default_factory=lambda: ["en", "es", "pt", "fr", "it", "de"],
        description="Languages the detector may answer; others are never guessed.",
    )
    default: str = Field("en", description="Reply language when nothing else decides.")
    fallback: list[str] = Field(
        default_factory=lambda: ["en"],
        description="Reply languages tried, in order, when the detected one has no templates.",
    )


class Screening(_Section):
    daily_cap: int = Field(3, ge=1, description="Most replies drafted to one sender per day.")
    grace_minutes: int = Field(
        0, ge=0, description="Minutes after a reply to a sender during which a new message is not answered."
    )


class Schedule(_Section):
    fetch_seconds: int = Field(60, ge=1, description="How often the worker fetches new mail.")
    send_seconds: int = Field(30, ge=1, description="How often the worker sends approved replies.")


class Ingest(_Section):
    processes: int = Field(
        0,
        ge=0,
        description="Processes that parse, triage and draft a large batch, the fetching one included: "
        "0 = one per CPU core, at most 4; 1 = the fetching process alone. Each other one holds ~85 MB.",
    )
    pool_min_batch: int = Field(
        20, ge=1, description="Smallest batch handed to the worker processes; smaller ones run in place."
    )
    pool_idle_seconds: int = Field(
        600,
        ge=1,
        description="Worker processes stop after this long without a large batch (restarted for the next).",
    )


class Paths(_Section):
    rules: Path = Field(Path("rules.yaml"), description="The reply rules file.")
    replies: Path = Field(
        Path("replies"), description="Templates and packet sources, one folder per language."
    )
    packets: Path = Field(Path("var/packets"), description="Where built packet PDFs are written and read.")
    packet_overrides: dict[str, Path] = Field(
        default_factory=dict,
        description="Official files that replace built packets, keyed 'lang/packet_id'.",
    )


class Notifications(_Section):
    staff: list[str] = Field(
        default_factory=list,
        description="Staff addresses told at once of urgent mail, and sent the daily digest.",
    )
    base_url: str = Field(
        "http://127.0.0.1:8080", description="The web app's address, for links in staff mail."
    )
    digest_hour: int = Field(7, ge=0, le=23, description="Hour of the day (server time) the digest is sent.")
    urgent_reminder_minutes: int = Field(
        30, ge=1, description="Remind staff when an urgent item has waited this long."
    )


class Retention(_Section):
    days: int = Field(365, ge=1, description="Days inquiries and replies are kept before they are purged.")
    purge_hour: int = Field(3, ge=0, le=23, description="Hour of the day (server time) the purge runs.")


class Web(_Section):
    host: str = Field("127.0.0.1", description="Address the staff web app listens on.")
    port: int = Field(8080, description="Port the staff web app listens on.")
    secret_key: str = Field("", description="Session signing key; or set BOT_SECRET_KEY.")


class Config(_Section):
    organisation: Organisation
    mailbox: Mailbox = Mailbox()
    imap: Imap | None = None
    smtp: Smtp
    database: Database = Database()
    languages: Languages = Languages()
    screening: Screening = Screening()
    schedule: Schedule = Schedule()
    ingest: Ingest = Ingest()
    paths: Paths = Paths()
    notifications: Notifications = Notifications()
    retention: Retention = Retention()
    web: Web = Web()
    signature: str = Field("", description="Closing lines under every reply; empty uses reply_name.")

    @model_validator(mode="after")
    def _imap_when_needed(self) -> Config:
        if self.mailbox.kind == "imap" and self.imap is None:
            raise ValueError("imap: this section is required when mailbox.kind is imap")
        for section in (self.imap, self.smtp):
            if (
                section is not None
                and section.auth == "xoauth2"
                and (self.imap is None or not self.imap.oauth2.endpoint())
            ):
                raise ValueError("imap.oauth2: xoauth2 needs a provider (google, microsoft) or a token_url")
        return self

    def own_addresses(self) -> frozenset[str]:
        """Every address that is ours, lower-cased: mail from them is never answered."""
        return frozenset(a.lower() for a in [self.organisation.address, *self.organisation.other_addresses])


class ConfigError(Exception):
    """The configuration is missing, unreadable or wrong; the message names the key."""


_ENV_SECRETS = {
    ("imap", "password"): "BOT_IMAP_PASSWORD",
    ("smtp", "password"): "BOT_SMTP_PASSWORD",
    ("web", "secret_key"): "BOT_SECRET_KEY",
}
_ENV_OAUTH2 = {"client_secret": "BOT_OAUTH2_CLIENT_SECRET", "refresh_token": "BOT_OAUTH2_REFRESH_TOKEN"}


def config_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The config file to read: the explicit path, else $BOT_CONFIG, else config/bot.yaml."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("BOT_CONFIG")
    return Path(env) if env else DEFAULT_CONFIG_PATH


def parse_config(data: object, source: str = "<config>", environ: dict[str, str] | None = None) -> Config:
    """Validate a mapping as a :class:`Config`, applying secrets from the environment.

    Raises :class:`ConfigError` naming every wrong key (``imap.port: expected an
    integer``), so an admin can fix the whole file at once.
    """
    env = os.environ if environ is None else environ
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping of sections at the top level")
    merged = {k: (dict(v) if isinstance(v, dict) else v) for k, v in data.items()}
    for (section, key), var in _ENV_SECRETS.items():
        if env.get(var) and isinstance(merged.get(section, {}), dict):
            merged.setdefault(section, {})[key] = env[var]
    imap = merged.get("imap")
    if isinstance(imap, dict):
        for key, var in _ENV_OAUTH2.items():
            if env.get(var):
                oauth = dict(imap.get("oauth2") or {})
                oauth[key] = env[var]
                imap["oauth2"] = oauth
    try:
        return Config.model_validate(merged)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"]) or "(top level)"
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "missing":
                msg = "required key is missing"
            elif err["type"] == "extra_forbidden":
                msg = "unknown key (check its spelling against the README)"
            problems.append(f"  {key}: {msg}")
        raise ConfigError(f"{source}: invalid configuration\n" + "\n".join(problems)) from None


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """Read and validate the config file chosen by :func:`config_path`."""
    p = config_path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read the configuration file ({exc.strerror})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{p}:{mark.line + 1}" if mark else str(p)
        raise ConfigError(f"{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    return parse_config(data, str(p))


def documented_keys(model: type[BaseModel] = Config, prefix: str = "") -> list[tuple[str, str, str]]:
    """Every key as (dotted name, default, meaning): the README's table is made from this."""
    rows: list[tuple[str, str, str]] = []
    for name, field in model.model_fields.items():
        ann = field.annotation
        nested = [
            a for a in (*getattr(ann, "__args__", ()), ann) if isinstance(a, type) and issubclass(a, _Section)
        ]
        if nested:
            rows += documented_keys(nested[0], f"{prefix}{name}.")
            continue
        if field.is_required():
            default = "(required)"
        else:
            value = field.default_factory() if field.default_factory else field.default  # type: ignore[call-arg]
            default = str(value) if isinstance(value, Path) else repr(value)
        rows.append((prefix + name, default, field.description or ""))
    return rows


if __name__ == "__main__":  # python -m bot.config: print the README's configuration table
    print("| key | default | meaning |\n|---|---|---|")
    for key, default, meaning in documented_keys():
        print(f"| `{key}` | `{default}` | {meaning} |")
