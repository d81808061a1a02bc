"""Build packet PDFs to disk, and hand out the file to attach to a reply.

Built files live at ``<out_dir>/<lang>/<filename>``. They are written to a
temporary name and renamed into place, so a reader (the worker attaching a
packet while an admin rebuilds) never sees half a file.
"""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

from bot import filestamps
from bot.packets.catalogue import COMMON_FILE, PACKET_IDS, Catalogue, load_catalogue
from bot.packets.model import PacketError, PacketSource


def built_path(out_dir: Path, source: PacketSource) -> Path:
    """Where the built PDF of ``source`` lives."""
    return Path(out_dir) / source.lang / source.filename


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def organisation_note(path: Path) -> Path:
    """The file beside a built PDF that names the organisation it was built for.

    The PDF says so too (its author), but reading that back needs pypdf, and
    with the renderer ~20 MB in every process that attaches packets: a
    process that only serves built files imports neither.
    """
    return path.with_name(f".{path.name}.organisation")


def build_one(catalogue: Catalogue, out_dir: Path, lang: str, packet_id: str, organisation: str) -> Path:
    """Render one packet and write it, with its organisation note; returns its path."""
    from bot.packets.render import render_packet  # only to build: see organisation_note

    source = catalogue.packet(lang, packet_id)
    path = built_path(out_dir, source)
    _write_atomically(path, render_packet(source, catalogue.common(lang), organisation))
    _write_atomically(organisation_note(path), organisation.encode("utf-8"))
    return path


def build_packets(replies_dir: Path, out_dir: Path, organisation: str) -> list[Path]:
    """Build every packet in every language; returns the written paths in a stable order.

    Raises :class:`PacketError` (before writing anything) if any source is wrong.
    """
    catalogue = load_catalogue(Path(replies_dir))
    return [
        build_one(catalogue, Path(out_dir), lang, packet_id, organisation)
        for lang in catalogue.languages()
        for packet_id in PACKET_IDS
    ]


def _is_current(path: Path, source: PacketSource, organisation: str) -> bool:
    """Built, newer than its source and page furniture, and made for this organisation."""
    try:
        built = path.stat().st_mtime
    except FileNotFoundError:
        return False
    common = source.path.parent / COMMON_FILE
    if built < max(source.path.stat().st_mtime, common.stat().st_mtime):
        return False
    # The organisation is a build input that has no file to compare times with: the note
    # written with the PDF names it; a PDF without a note as new as itself (built before
    # notes existed, or replaced by hand) is asked directly, as its author.
    note = organisation_note(path)
    try:
        if note.stat().st_mtime >= built:
            return note.read_text(encoding="utf-8") == organisation
    except (OSError, UnicodeDecodeError):
        pass
    return _pdf_author(path) == organisation


def _pdf_author(path: Path) -> str | None:
    from pypdf import PdfReader  # only for files without a note: see organisation_note

    try:
        info = PdfReader(io.BytesIO(path.read_bytes())).metadata
    except Exception:  # a damaged file is simply rebuilt
        return None
    return info.author if info is not None else None


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
    return filestamps.per_batch(
        ("packet_file", key), lambda: _built_file(key, replies_dir, out_dir, lang, packet_id, organisation)
    )


def _built_file(
    key: tuple[str, str, str, str, str],
    replies_dir: Path,
    out_dir: Path,
    lang: str,
    packet_id: str,
    organisation: str,
) -> tuple[str, bytes]:
    """packet_file's built PDF, served from memory while its inputs' stamps are unchanged."""
    hit = _served.get(key)
    if hit is not None and tuple(map(filestamps.stamp, hit[0])) == hit[1]:
        return hit[2], hit[3]
    catalogue = load_catalogue(Path(replies_dir))
    source = catalogue.packet(lang, packet_id)
    path = built_path(Path(out_dir), source)
    if not _is_current(path, source, organisation):
        build_one(catalogue, Path(out_dir), lang, packet_id, organisation)
    data = path.read_bytes()
    inputs = _inputs(replies_dir, out_dir, lang, packet_id, source.filename)
    stamps = tuple(map(filestamps.stamp, inputs))
    if None not in stamps:
        _served[key] = (inputs, stamps, source.filename, data)  # type: ignore[assignment]
    return source.filename, data


# What packet_file last served, with its inputs (as strings, ready to stat) and
# their stamps then: while the source, the page furniture and the built file
# are unchanged, the same bytes are served without reading the catalogue and
# the PDF again (every reply asks for one to five packets; reading them cost
# ~40 ms a packet).
_served: dict[
    tuple[str, str, str, str, str], tuple[tuple[str, ...], tuple[filestamps.Stamp, ...], str, bytes]
] = {}


def _inputs(replies_dir: Path, out_dir: Path, lang: str, packet_id: str, filename: str) -> tuple[str, ...]:
    folder = Path(replies_dir) / lang / "packets"
    return tuple(
        map(str, (folder / f"{packet_id}.md", folder / COMMON_FILE, Path(out_dir) / lang / filename))
    )
