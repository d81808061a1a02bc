"""The disclaimer and packet files as they were at 5524a7a, frozen for the equivalence test."""

# ruff: noqa
from __future__ import annotations

from pathlib import Path

from bot.packets.build import _is_current, build_one, built_path
from bot.packets.catalogue import COMMON_FILE, PACKET_IDS, load_catalogue
from bot.packets.model import PacketError
from bot.templates import DISCLAIMER, normalise_language
from tests.compose_reference import stamps as filestamps
from tests.compose_reference.loader import paragraphs


def load_disclaimer(replies_dir: Path, language: str) -> str | None:
    """The disclaimer text for ``language`` (stripped), or None when it has none.

    Kept in memory while the file is unchanged (:mod:`bot.filestamps`): every
    reply asks for it, and the send step again.
    """
    lang = normalise_language(language)
    if lang is None:
        return None
    path = Path(replies_dir) / lang / DISCLAIMER
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


def append_disclaimer(text: str, html: str, disclaimer: str, language: str) -> tuple[str, str]:
    """Both parts with the disclaimer appended: after the text, and before ``</body>`` in the HTML."""
    text = f"{text.rstrip()}\n\n--\n{disclaimer.strip()}\n"
    block = f'<div class="disclaimer" lang="{language}"><hr>\n{paragraphs(disclaimer)}\n</div>\n'
    at = html.lower().rfind("</body>")
    html = html[:at] + block + html[at:] if at >= 0 else html + "\n" + block
    return text, html


def packet_file(
    replies_dir: Path,
    out_dir: Path,
    lang: str,
    packet_id: str,
    organisation: str,
    overrides: dict[str, Path] | None = None,
) -> tuple[str, bytes]:
    """The attachment for one packet: ``(filename, pdf bytes)``.

    An override keyed ``"lang/packet_id"`` (the organisation's own official
    file) wins and is returned under its own file name; a configured override
    that cannot be read is an error, never silently replaced. Otherwise the
    built PDF is returned, built first if missing, older than its source or
    made for another organisation name. Unknown language or packet id:
    :class:`PacketError`.
    """
    if packet_id not in PACKET_IDS:
        raise PacketError(f"unknown packet {packet_id!r}; known: {', '.join(PACKET_IDS)}")
    override = (overrides or {}).get(f"{lang}/{packet_id}")
    if override is not None:
        try:
            return Path(override).name, Path(override).read_bytes()
        except OSError as exc:
            raise PacketError(
                f"packet override {lang}/{packet_id}: cannot read {override} ({exc.strerror})"
            ) from None
    key = (str(replies_dir), str(out_dir), lang, packet_id, organisation)
    hit = _served.get(key)
    if hit is not None and hit[0] == _stamp(*_inputs(replies_dir, out_dir, lang, packet_id, hit[1])):
        return hit[1], hit[2]
    catalogue = load_catalogue(Path(replies_dir))
    source = catalogue.packet(lang, packet_id)
    path = built_path(Path(out_dir), source)
    if not _is_current(path, source, organisation):
        build_one(catalogue, Path(out_dir), lang, packet_id, organisation)
    data = path.read_bytes()
    stamp = _stamp(*_inputs(replies_dir, out_dir, lang, packet_id, source.filename))
    if stamp is not None:
        _served[key] = (stamp, source.filename, data)
    return source.filename, data


# What packet_file last served, with the stamps of its inputs then: while the
# source, the page furniture and the built file are unchanged, the same bytes
# are served without reading the catalogue and the PDF again (every reply asks
# for one to five packets; reading them cost ~40 ms a packet).
_served: dict[tuple[str, str, str, str, str], tuple[tuple[filestamps.Stamp, ...], str, bytes]] = {}


def _inputs(replies_dir: Path, out_dir: Path, lang: str, packet_id: str, filename: str) -> tuple[Path, ...]:
    folder = Path(replies_dir) / lang / "packets"
    return folder / f"{packet_id}.md", folder / COMMON_FILE, Path(out_dir) / lang / filename


def _stamp(*paths: Path) -> tuple[filestamps.Stamp, ...] | None:
    """The stamp of each path (:mod:`bot.filestamps`); None when one is missing."""
    stamps = tuple(map(filestamps.stamp, paths))
    return None if None in stamps else stamps  # type: ignore[return-value]
