"""The one configuration schema: every key, its default and its meaning.

The file is YAML, ``config/bot.yaml`` by default, another with ``--config
PATH`` or the ``BOT_CONFIG`` environment variable. Secrets may instead come
from the environment (``BOT_IMAP_PASSWORD``, ``BOT_SMTP_PASSWORD``,
``BOT_SECRET_KEY``) so that they never need to live in the repository.

A missing or wrong key is refused at start with the key's dotted name and
what was expected (:class:`ConfigError`). The README's configuration table
is checked against this schema by a test, so a key cannot go undocumented.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

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


class Imap(_Section):
    host: str = Field(description="IMAP server host name.")
    port: int = Field(993, description="IMAP port: 993 for ssl, 143 for starttls or none.")
    security: Security = Field("ssl", description="ssl, starttls or none (none only on loopback).")
    username: str = Field(description="IMAP login name.")
    password: str = Field("", description="IMAP password; or set BOT_IMAP_PASSWORD.")
    folder: str = Field("INBOX", description="The folder inquiries arrive in.")
    processed_folder: str = Field(
        "", description="Move handled mail here after it is stored; empty keeps it in place (flagged)."
    )
    batch_size: int = Field(100, ge=1, description="How many messages one FETCH asks for.")
    timeout: float = Field(30.0, gt=0, description="Seconds before a silent connection is given up.")


class Smtp(_Section):
    host: str = Field(description="SMTP server host name.")
    port: int = Field(587, description="SMTP port: 587 for starttls, 465 for ssl.")
    security: Security = Field("starttls", description="ssl, starttls or none (none only on loopback).")
    username: str = Field("", description="SMTP login name; empty sends without logging in.")
    password: str = Field("", description="SMTP password; or set BOT_SMTP_PASSWORD.")
    timeout: float = Field(30.0, gt=0, description="Seconds before a silent connection is given up.")


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


class Retention(_Section):
    days: int = Field(365, ge=1, description="Days inquiries and replies are kept before they are purged.")


class Web(_Section):
    host: str = Field("127.0.0.1", description="Address the staff web app listens on.")
    port: int = Field(8080, description="Port the staff web app listens on.")
    secret_key: str = Field("", description="Session signing key; or set BOT_SECRET_KEY.")


class Config(_Section):
    organisation: Organisation
    imap: Imap
    smtp: Smtp
    database: Database = Database()
    languages: Languages = Languages()
    screening: Screening = Screening()
    schedule: Schedule = Schedule()
    paths: Paths = Paths()
    retention: Retention = Retention()
    web: Web = Web()
    signature: str = Field("", description="Closing lines under every reply; empty uses reply_name.")

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
    try:
        return Config.model_validate(merged)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"])
            msg = err["msg"]
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
