"""The disclaimer every reply carries, and the check the send step makes.

The composer appends ``replies/<lang>/disclaimer.txt`` to both the text and
the HTML part itself, after the templates have rendered, so deleting it from
a template cannot remove it. The send step calls :func:`require_disclaimer`
on the exact bytes it is about to send and refuses a message without it:
the check reads the message as a recipient would (decoded parts, HTML
reduced to text) and compares with whitespace normalised.
"""

from __future__ import annotations

import email
import email.policy
import unicodedata
from email.message import EmailMessage
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path

from bot import filestamps
from bot.replyfilters import paragraphs
from bot.templates import DISCLAIMER, normalise_language


class MissingDisclaimer(Exception):
    """An outgoing message lacks the disclaimer of its language in a text or HTML part."""


def normalise(text: str) -> str:
    """Whitespace collapsed to single spaces, Unicode composed: what the comparison sees."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def load_disclaimer(replies_dir: Path, language: str) -> str | None:
    """The disclaimer text for ``language`` (stripped), or None when it has none.

    Kept in memory while the file is unchanged (:mod:`bot.filestamps`): every
    reply asks for it, and the send step again.
    """
    key = ("disclaimer", replies_dir, language)
    return filestamps.per_batch(key, lambda: _disclaimer(replies_dir, language))


def _disclaimer(replies_dir: Path, language: str) -> str | None:
    lang = normalise_language(language)
    if lang is None:
        return None
    path = _disclaimer_path(replies_dir, lang)
    stamp = filestamps.stamp(path)
    hit = _loaded.get(path)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    try:
        text = path.read_text(encoding="utf-8").strip() or None
    except (OSError, UnicodeDecodeError):
        return None
    if text is not None and stamp is not None and filestamps.settled([stamp]):
        if len(_loaded) >= 256:
            _loaded.clear()
        _loaded[path] = (stamp, text)
    return text


_loaded: dict[Path, tuple[filestamps.Stamp, str]] = {}


@lru_cache(maxsize=64)
def _disclaimer_path(replies_dir: Path, language: str) -> Path:
    return Path(replies_dir) / language / DISCLAIMER


def append_disclaimer(text: str, html: str, disclaimer: str, language: str) -> tuple[str, str]:
    """Both parts with the disclaimer appended: after the text, and before ``</body>`` in the HTML."""
    text = f"{text.rstrip()}\n\n--\n{disclaimer.strip()}\n"
    block = f'<div class="disclaimer" lang="{language}"><hr>\n{paragraphs(disclaimer)}\n</div>\n'
    at = html.lower().rfind("</body>")
    html = html[:at] + block + html[at:] if at >= 0 else html + "\n" + block
    return text, html


class _TextOnly(HTMLParser):
    """HTML to its readable text; every tag becomes a space so paragraphs do not run together."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "head", "title"):
            self._skip += 1
        self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head", "title") and self._skip:
            self._skip -= 1
        self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._skip:  # text hidden in <style> or <title> is not shown to the reader
            self.parts.append(data)


def html_text(html: str) -> str:
    """The text a reader sees in ``html``."""
    parser = _TextOnly()
    parser.feed(html)
    parser.close()
    return "".join(parser.parts)


def _body_parts(msg: EmailMessage) -> tuple[list[str], list[str]]:
    """The decoded text/plain and text/html body parts (attachments excluded)."""
    plain: list[str] = []
    html: list[str] = []
    for part in msg.walk():
        if part.is_multipart() or part.get_content_disposition() == "attachment":
            continue
        ctype = part.get_content_type()
        if ctype == "text/plain":
            plain.append(part.get_content())
        elif ctype == "text/html":
            html.append(html_text(part.get_content()))
    return plain, html


def check(raw: bytes, replies_dir: Path) -> str | None:
    """Why ``raw`` fails the disclaimer check, or None when it passes."""
    try:
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        language = (msg.get("Content-Language") or "").split(",")[0].strip()
        plain, html = _body_parts(msg)  # type: ignore[arg-type]
    except Exception as exc:  # noqa: BLE001 - an unreadable message is refused, not crashed on
        return f"the message cannot be read ({type(exc).__name__})"
    if not language:
        return "the message has no Content-Language, so its disclaimer cannot be chosen"
    text = load_disclaimer(replies_dir, language)
    if text is None:
        return f"there is no disclaimer for language {language!r}"
    if not plain or not html:
        return "the message needs both a text and an HTML part"
    wanted = normalise(text)
    for kind, parts in (("text", plain), ("HTML", html)):
        if not all(wanted in normalise(p) for p in parts):
            return f"the {kind} part lacks the {language} disclaimer"
    return None


def has_disclaimer(raw: bytes, replies_dir: Path) -> bool:
    """Whether both the text and the HTML part carry the disclaimer of the message's language."""
    return check(raw, replies_dir) is None


def require_disclaimer(raw: bytes, replies_dir: Path) -> None:
    """Raise :class:`MissingDisclaimer` (saying why) unless :func:`has_disclaimer` holds."""
    problem = check(raw, replies_dir)
    if problem is not None:
        raise MissingDisclaimer(problem)
