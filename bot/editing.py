"""Editing rules.yaml and the reply templates safely: check, save with history, roll back.

Shared by the web editor (``bot/web/editor*.py``) and any command. Contracts:

* A file is named by its logical name (:class:`Target`): ``rules.yaml`` or
  ``replies/<lang>/<name>``; where it lives comes from the config.
* :func:`problems` checks a text; rules go through :func:`bot.rules.parse_rules`
  exactly as ``rules check`` does. Empty means it may be saved.
* :func:`save` never writes a text with problems (:class:`SaveRefused`) nor
  over a file that changed since the editor read it (:class:`Conflict`); it
  writes atomically and records a version and an audit entry in one
  transaction. A file on disk that no version matches (a hand edit, or the
  file before the first save) is recorded first, so nothing is ever lost.
* :func:`rollback` saves an earlier version again (checked like any save);
  :func:`adopt` records a hand edit as a version.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.config import Config
from bot.queue import audit
from bot.rules import RuleProblem, RulesError, parse_rules
from bot.store import Store
from bot.store import versions as store_versions
from bot.store.versions import ConfigVersion, FileState, keep_copy, latest, record, sha256, write_atomically
from bot.templates import DISCLAIMER, LAYOUT_HTML, LAYOUT_TEXT, STRINGS, TemplateLoader, normalise_language

RULES = "rules.yaml"
OUTSIDE = "(outside the web app)"
# The words compose_reply takes from strings.yaml whatever the templates say.
REQUIRED_STRINGS = ("subject_prefix", "subject_default", "greeting_named", "greeting_anonymous")
Checker = Callable[[str], list[RuleProblem]]
_write_lock = threading.Lock()  # one save at a time per process: the check and the write belong together


@dataclass(frozen=True)
class Target:
    """One file the editor may change: ``kind`` is rules, layout, topic, strings or disclaimer."""

    name: str
    path: Path
    kind: str
    language: str | None = None


def rules_target(config: Config) -> Target:
    return Target(RULES, Path(config.paths.rules), "rules")


def template_targets(config: Config) -> list[Target]:
    """The reply files of every language folder (never the packet sources), in a stable order."""
    root = Path(config.paths.replies)
    out: list[Target] = []
    for lang_dir in sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else ():
        lang = lang_dir.name
        if normalise_language(lang) != lang:
            continue
        kinds = {LAYOUT_TEXT: "layout", LAYOUT_HTML: "layout", STRINGS: "strings", DISCLAIMER: "disclaimer"}
        names = [n for n in kinds if (lang_dir / n).is_file()]
        names += [f"topics/{p.name}" for p in sorted((lang_dir / "topics").glob("*.txt.j2"))]
        for n in names:
            out.append(Target(f"replies/{lang}/{n}", lang_dir / n, kinds.get(n, "topic"), lang))
    return out


def find_target(config: Config, name: str) -> Target:
    """The target called ``name``; ``KeyError`` for anything else (so no path can be smuggled in)."""
    if name == RULES:
        return rules_target(config)
    for target in template_targets(config):
        if target.name == name:
            return target
    raise KeyError(name)


def normalise_text(text: str) -> str:
    """Browsers send CRLF: files keep LF, and end with one newline."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text if text.endswith("\n") or not text else text + "\n"


def read(path: Path) -> str | None:
    """The file's text, or None when it does not exist."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


_LINE = re.compile(r"^line (\d+): (.*)$", re.S)


def problems(target: Target, text: str, loader: TemplateLoader | None = None) -> list[RuleProblem]:
    """What is wrong with ``text`` as ``target`` (empty: fine). Templates need ``loader``.

    Templates are compiled and rendered with sample values here; the web
    editor adds a real render with a chosen inquiry.
    """
    if target.kind == "rules":
        try:
            parse_rules(text, target.name)
        except RulesError as exc:
            return list(exc.problems)
        return []
    if target.kind == "disclaimer":
        return [] if text.strip() else [RuleProblem(target.name, 1, "the disclaimer cannot be empty")]
    if target.kind == "strings":
        return _strings_problems(target, text)
    assert loader is not None, "templates are checked with a TemplateLoader"
    found = []
    for problem in loader.render_check(text, html=target.name.endswith(".html.j2")):
        m = _LINE.match(problem)
        found.append(RuleProblem(target.name, int(m[1]) if m else 1, m[2] if m else problem))
    return found


def _strings_problems(target: Target, text: str) -> list[RuleProblem]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        return [RuleProblem(target.name, line, f"not valid YAML: {getattr(exc, 'problem', None) or exc}")]
    if not isinstance(data, dict):
        return [RuleProblem(target.name, 1, 'expected lines of the form  key: "words"')]
    out = [
        RuleProblem(target.name, 1, f"{k}: expected words in quotes")
        for k, v in data.items()
        if not isinstance(k, str) or not isinstance(v, str)
    ]
    missing = [k for k in REQUIRED_STRINGS if k not in data] if target.language == "en" else []
    # Only English must have them all: it fills the gaps of every other language.
    return out + [RuleProblem(target.name, 1, f"{k}: required key is missing") for k in missing]


class SaveRefused(Exception):
    """The text has problems and was not written; ``problems`` says where and why."""

    def __init__(self, problems: list[RuleProblem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


class Conflict(Exception):
    """The file changed since the editor read it; ``on_disk`` is what is there now."""

    def __init__(self, on_disk: str) -> None:
        super().__init__("the file changed since it was opened")
        self.on_disk = on_disk


def file_state(store: Store, target: Target) -> FileState:
    """The file on disk against its newest recorded version (see :class:`FileState`)."""
    return store_versions.file_state(store, target.name, target.path)


def versions(store: Store, target: Target, limit: int = 100) -> list[ConfigVersion]:
    """Recorded versions of ``target``, newest first."""
    with store.session() as s:
        return store_versions.history(s, target.name, limit)


def get_version(store: Store, target: Target, version_id: int) -> ConfigVersion:
    """One version of ``target``; ``KeyError`` when it has no such version."""
    return store_versions.get(store, target.name, version_id)


def _audit(session, target: Target, user: str, action: str, version: ConfigVersion) -> None:  # type: ignore[no-untyped-def]
    what = f"{'rules' if target.kind == 'rules' else 'template'}_{action}"
    audit(session, user, None, what, path=target.name, sha256=version.sha256, version=version.id)


def save(
    store: Store,
    target: Target,
    text: str,
    user: str,
    *,
    check: Checker,
    note: str = "",
    base_sha: str | None = None,
    history_dir: Path | None = None,
    action: str = "saved",
) -> ConfigVersion | None:
    """Check and write ``text``; the new version, or None when it equals the file (nothing written).

    ``check`` gives a text's problems (see :func:`problems`); ``base_sha`` is
    the sha256 of the file the editor showed (None skips that check);
    ``action`` names the audit entry (``rules_saved``, ``template_rollback``).
    """
    text = normalise_text(text)
    found = check(text)
    if found:
        raise SaveRefused(found)
    kept: list[ConfigVersion] = []
    version = None
    with _write_lock, store.session() as s:
        on_disk = read(target.path)
        if base_sha is not None and on_disk is not None and sha256(on_disk) != base_sha:
            raise Conflict(on_disk)
        newest = latest(s, target.name)
        if on_disk is not None and (newest is None or newest.sha256 != sha256(on_disk)):
            # Never lose what is there: the file before the first web save, or a hand edit.
            why = "the file as it was before the first save" if newest is None else "changed by hand"
            kept.append(record(s, target.name, on_disk, OUTSIDE, why))
        if on_disk != text:
            write_atomically(target.path, text)
            version = record(s, target.name, text, user, note)
            kept.append(version)
            _audit(s, target, user, action, version)
    for v in kept:
        keep_copy(history_dir, v, "".join(target.path.suffixes))
    return version


def rollback(
    store: Store,
    target: Target,
    version_id: int,
    user: str,
    *,
    check: Checker,
    history_dir: Path | None = None,
) -> ConfigVersion | None:
    """Save an earlier version's text again, as a new version (checked like any save)."""
    old = get_version(store, target, version_id)
    when = old.saved_at.strftime("%d %b %Y %H:%M") if old.saved_at else "?"
    who = "" if old.saved_by == OUTSIDE else f" by {old.saved_by}"
    note = f"back to version {old.id}, saved{who} on {when}"
    return save(
        store, target, old.content, user, check=check, note=note, history_dir=history_dir, action="rollback"
    )


def adopt(
    store: Store, target: Target, user: str, *, check: Checker, history_dir: Path | None = None
) -> ConfigVersion | None:
    """Record the file as changed outside the web app as a new version; None when already recorded."""
    text = read(target.path) or ""
    found = check(text)
    if found:
        raise SaveRefused(found)
    with _write_lock, store.session() as s:
        newest = latest(s, target.name)
        if newest is not None and newest.sha256 == sha256(text):
            return None
        version = record(s, target.name, text, user, "changed outside the web app, taken as a new version")
        _audit(s, target, user, "adopted", version)
    keep_copy(history_dir, version, "".join(target.path.suffixes))
    return version
