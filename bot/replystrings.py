"""The words reply layouts use (``strings.yaml``), one file a language, read again only when changed.

Every reply needs them; parsing the YAML each time cost ~2 ms a reply, so
each file is kept with its stamp (:mod:`bot.filestamps`), and within a batch
the merged answer is worked out once.
"""

from __future__ import annotations

import copy
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot import filestamps

# Values deepcopy returns as they are (immutable): a dict of only these is copied as a plain dict.
_SCALARS = frozenset({str, int, bool, type(None)})


class StringsFiles:
    """One folder tree's ``<lang>/<name>`` files, parsed and kept while unchanged."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._parsed: dict[Path, tuple[filestamps.Stamp, dict[str, Any], bool]] = {}

    def merged(self, replies_dir: Path, languages: tuple[str, ...]) -> dict[str, Any]:
        """Each language's file over the ones before it, as a new dict, the caller's to change.

        A missing file adds nothing; a file that is not a mapping raises ``ValueError``.
        """
        key = ("strings", self.name, replies_dir, languages)
        merged, plain = filestamps.per_batch(key, lambda: self._merged(replies_dir, languages))
        return dict(merged) if plain else copy.deepcopy(merged)

    def _merged(self, replies_dir: Path, languages: tuple[str, ...]) -> tuple[dict[str, Any], bool]:
        """The merged mapping (shared: not to be changed), and whether every value is a plain scalar."""
        merged: dict[str, Any] = {}
        plain = True
        for lang in languages:
            data, scalars = self._read(_path(replies_dir, lang, self.name))
            merged.update(data)
            plain = plain and scalars
        return merged, plain

    def _read(self, path: Path) -> tuple[dict[str, Any], bool]:
        """One file ({} when missing), parsed again only when changed, and whether its values are scalars."""
        stamp = filestamps.stamp(path)
        if stamp is None:
            return {}, True
        hit = self._parsed.get(path)
        if hit is not None and hit[0] == stamp:
            return hit[1], hit[2]
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict):
            raise ValueError(f"{path}: expected a mapping of keys to strings")
        plain = all(type(v) in _SCALARS for v in data.values())
        self._parsed[path] = (stamp, data, plain)
        return data, plain


@lru_cache(maxsize=64)
def _path(replies_dir: Path, language: str, name: str) -> Path:
    return replies_dir / language / name
