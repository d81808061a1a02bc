"""``init`` asks the questions, writes a valid config without passwords, and never overwrites silently."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bot.config import load_config

ROOT = Path(__file__).resolve().parents[2]
ANSWERS = "\n".join(
    ["Amigos ELA", "ayuda@example.org", "", "imap.example.org", "993", "ssl", "", "", "smtp.example.org",
     "465", "ssl", "", ""]
) + "\n"  # fmt: skip


def _init(path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "run.py", "--config", str(path), "init", *extra],
        cwd=ROOT, input=ANSWERS, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_init_writes_a_config_that_loads_and_holds_no_password(tmp_path: Path) -> None:
    path = tmp_path / "bot.yaml"
    result = _init(path)
    assert result.returncode == 0, result.stdout + result.stderr
    cfg = load_config(path)
    assert cfg.organisation.name == "Amigos ELA" and cfg.imap.username == "ayuda@example.org"
    assert cfg.smtp.port == 465 and cfg.smtp.security == "ssl"
    assert "password" not in path.read_text(encoding="utf-8")
    assert "BOT_IMAP_PASSWORD" in result.stdout


def test_init_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    path = tmp_path / "bot.yaml"
    path.write_text("keep me\n", encoding="utf-8")
    assert _init(path).returncode == 1
    assert path.read_text(encoding="utf-8") == "keep me\n"
    assert _init(path, "--force").returncode == 0
