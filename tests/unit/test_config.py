"""The config schema refuses what is wrong, by key name, and reads secrets from the environment."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.config import ConfigError, documented_keys, load_config, parse_config

ROOT = Path(__file__).resolve().parents[2]

MINIMAL = {
    "organisation": {"name": "ALS Worldwide", "address": "support@example.org", "reply_name": "Support"},
    "imap": {"host": "imap.example.org", "username": "support@example.org"},
    "smtp": {"host": "smtp.example.org"},
}


def test_minimal_config_gets_documented_defaults() -> None:
    cfg = parse_config(MINIMAL, environ={})
    assert cfg.imap.port == 993 and cfg.imap.security == "ssl" and cfg.imap.folder == "INBOX"
    assert cfg.smtp.port == 587 and cfg.smtp.security == "starttls"
    assert cfg.database.url == "sqlite:///var/bot.db"
    assert cfg.organisation.domain == "example.org"


def test_missing_key_is_named() -> None:
    data = {**MINIMAL, "imap": {"host": "imap.example.org"}}
    with pytest.raises(ConfigError, match=r"imap\.username: required key is missing"):
        parse_config(data, environ={})


def test_wrong_type_and_unknown_key_are_named() -> None:
    data = {**MINIMAL, "smtp": {"host": "h", "port": "five", "secruity": "ssl"}}
    with pytest.raises(ConfigError) as err:
        parse_config(data, environ={})
    assert "smtp.port" in str(err.value)
    assert "smtp.secruity: unknown key" in str(err.value)


def test_security_must_be_one_of_three() -> None:
    data = {**MINIMAL, "imap": {**MINIMAL["imap"], "security": "tls"}}
    with pytest.raises(ConfigError, match=r"imap\.security"):
        parse_config(data, environ={})


def test_passwords_come_from_the_environment() -> None:
    cfg = parse_config(MINIMAL, environ={"BOT_IMAP_PASSWORD": "i-secret", "BOT_SMTP_PASSWORD": "s-secret"})
    assert cfg.imap.password == "i-secret" and cfg.smtp.password == "s-secret"


def test_bad_yaml_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bot.yaml"
    path.write_text("organisation:\n  name: x\n imap: [\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(str(path)) + r":\d+: not valid YAML"):
        load_config(path)


def test_bot_config_environment_variable_chooses_the_file(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "other.yaml"
    path.write_text(
        "organisation: {name: N, address: a@b.org, reply_name: R}\n"
        "imap: {host: h, username: u}\nsmtp: {host: h}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("BOT_CONFIG", str(path))
    assert load_config().organisation.address == "a@b.org"


def test_shipped_config_is_valid() -> None:
    load_config(ROOT / "config" / "bot.yaml")


def test_every_config_key_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [key for key, _, _ in documented_keys() if f"`{key}`" not in readme]
    assert not missing, f"undocumented config keys: {missing}"


def test_imap_section_is_required_for_an_imap_mailbox_only() -> None:
    data = {k: v for k, v in MINIMAL.items() if k != "imap"}
    with pytest.raises(ConfigError, match="imap: this section is required when mailbox.kind is imap"):
        parse_config(data, environ={})
    cfg = parse_config({**data, "mailbox": {"kind": "maildir", "maildir": "/tmp/md"}}, environ={})
    assert cfg.imap is None and str(cfg.mailbox.maildir) == "/tmp/md"


def test_oauth2_secrets_come_from_the_environment() -> None:
    data = {**MINIMAL, "imap": {**MINIMAL["imap"], "auth": "xoauth2", "oauth2": {"provider": "google"}}}
    cfg = parse_config(
        data, environ={"BOT_OAUTH2_REFRESH_TOKEN": "r-tok", "BOT_OAUTH2_CLIENT_SECRET": "c-sec"}
    )
    assert cfg.imap.oauth2.refresh_token == "r-tok" and cfg.imap.oauth2.client_secret == "c-sec"
    assert cfg.imap.oauth2.endpoint() == "https://oauth2.googleapis.com/token"
