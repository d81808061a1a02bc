"""Every version of an editable configuration file, with who saved it and when.

The rules and template editors (:mod:`bot.editing`) add one
:class:`ConfigVersion` per save, per rollback and per change taken over from
outside the web app, so any earlier version can be restored. Rows are never
updated or deleted: the table is the file's history. :func:`keep_copy` also
writes each version as a plain file, to compare or commit.

``path`` is the file's logical name, independent of where the config puts
it: ``rules.yaml`` for the rules, ``replies/<lang>/<name>`` for a reply
template (``replies/es/topics/dosage.txt.j2``).
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import DateTime, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from bot.store.models import Base, utcnow

if TYPE_CHECKING:
    from bot.store.db import Store


class ConfigVersion(Base):
    """One saved content of one file; the newest row of a path is the last one recorded."""

    __tablename__ = "config_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    path: Mapped[str] = mapped_column(String(300), index=True)
    content: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    saved_by: Mapped[str] = mapped_column(String(100))
    saved_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    note: Mapped[str] = mapped_column(Text, default="")


def sha256(text: str) -> str:
    """The fingerprint versions are compared by: sha256 of the UTF-8 text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def latest(session: Session, path: str) -> ConfigVersion | None:
    """The newest version of ``path``, or None when none was ever recorded."""
    query = select(ConfigVersion).where(ConfigVersion.path == path).order_by(ConfigVersion.id.desc())
    return session.scalars(query.limit(1)).first()


def history(session: Session, path: str, limit: int = 100) -> list[ConfigVersion]:
    """Versions of ``path``, newest first."""
    query = select(ConfigVersion).where(ConfigVersion.path == path).order_by(ConfigVersion.id.desc())
    return list(session.scalars(query.limit(limit)))


def record(session: Session, path: str, text: str, saved_by: str, note: str = "") -> ConfigVersion:
    """Add a version (flushed, so it has its id); the caller commits."""
    version = ConfigVersion(path=path, content=text, sha256=sha256(text), saved_by=saved_by, note=note)
    session.add(version)
    session.flush()
    return version


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` with ``text``: a reader sees the old file or the new one, never half of one.

    Temporary file in the same folder, fsync, ``os.replace``, then fsync of
    the folder so the rename itself survives a crash. Keeps the old file's
    permissions (0644 for a new file).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.chmod(tmp, stat.S_IMODE(path.stat().st_mode))
        except FileNotFoundError:
            os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    try:
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:  # some file systems cannot sync a folder; the data itself is synced
        pass


def keep_copy(history_dir: Path | None, version: ConfigVersion, suffix: str) -> Path | None:
    """Write ``version`` as ``<history_dir>/<path>/<UTC time>-v<id>-<who><suffix>``; None without a dir."""
    if history_dir is None:
        return None
    when = (version.saved_at or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    who = re.sub(r"[^A-Za-z0-9._-]+", "_", version.saved_by).strip("_") or "unknown"
    out = Path(history_dir) / version.path / f"{when}-v{version.id}-{who}{suffix or '.txt'}"
    write_atomically(out, version.content)
    return out


@dataclass(frozen=True)
class FileState:
    """A file on disk against its newest recorded version."""

    text: str
    sha256: str
    modified: datetime | None
    latest: ConfigVersion | None

    @property
    def changed_outside(self) -> bool:
        """Recorded before, and the file no longer matches that version (edited by hand)."""
        return self.latest is not None and self.latest.sha256 != self.sha256


def file_state(store: Store, path: str, file: Path) -> FileState:
    """What ``file`` holds now, when it was modified, and the newest version of ``path``."""
    try:
        text = file.read_text(encoding="utf-8")
        modified: datetime | None = datetime.fromtimestamp(file.stat().st_mtime, UTC)
    except FileNotFoundError:
        text, modified = "", None
    with store.session() as s:
        return FileState(text, sha256(text), modified, latest(s, path))


def get(store: Store, path: str, version_id: int) -> ConfigVersion:
    """Version ``version_id`` of ``path``; ``KeyError`` when ``path`` has no such version."""
    with store.session() as s:
        version = s.get(ConfigVersion, version_id)
    if version is None or version.path != path:
        raise KeyError(version_id)
    return version


def get_any(store: Store, version_id: int) -> ConfigVersion | None:
    """Version ``version_id`` of whichever file it belongs to, or None."""
    with store.session() as s:
        return s.get(ConfigVersion, version_id)
