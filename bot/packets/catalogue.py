"""The packet catalogue: which packets exist, in which languages, from which sources.

Sources live in ``<replies>/<lang>/packets/``: one ``<packet_id>.md`` per
packet (see :mod:`bot.packets.markup`) and ``_common.yaml`` with what every
page carries (the disclaimer, the page and revision labels, month names and
paper size). A language folder without a ``packets`` folder simply has no
packets; one with it must have all of :data:`PACKET_IDS`, so a half-translated
language is refused at load rather than discovered when a reply needs it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml

from bot.packets.markup import parse_source
from bot.packets.model import PacketError, PacketSource, check_printable

PACKET_IDS: tuple[str, ...] = (
    "general_information",
    "prescription_form",
    "participant_profile",
    "injection_information",
    "baseline_status_report",
)

COMMON_FILE = "_common.yaml"


@dataclass(frozen=True)
class Common:
    """What every page of one language's packets carries.

    ``disclaimer`` may contain ``{organisation}``; ``page_label`` has
    ``{page}`` and ``{pages}``; ``revised_label`` has ``{date}``;
    ``date_format`` has ``{day}``, ``{month}`` (a name from ``months``) and ``{year}``.
    """

    path: Path
    disclaimer: str
    page_label: str
    revised_label: str
    date_format: str
    months: tuple[str, ...]
    paper: Literal["letter", "a4"] = "letter"

    def format_date(self, date: dt.date) -> str:
        """The date written out in this language, e.g. '25 November 2026'."""
        return self.date_format.format(day=date.day, month=self.months[date.month - 1], year=date.year)


def load_common(path: Path) -> Common:
    """Read and check a ``_common.yaml``; raises :class:`PacketError` naming the key."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PacketError(f"{path}: cannot read ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise PacketError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise PacketError(f"{path}: expected 'key: value' lines")

    def text(key: str, *placeholders: str) -> str:
        value = data.get(key)
        if not isinstance(value, str) or not value.strip():
            raise PacketError(f"{path}: '{key}' must be a text")
        for placeholder in placeholders:
            if "{" + placeholder + "}" not in value:
                raise PacketError(f"{path}: '{key}' must contain {{{placeholder}}}")
        check_printable(value, f"{path}: {key}")
        return " ".join(value.split())

    months = data.get("months")
    if not isinstance(months, list) or len(months) != 12 or not all(isinstance(m, str) for m in months):
        raise PacketError(f"{path}: 'months' must list the twelve month names")
    paper = data.get("paper", "letter")
    if paper not in ("letter", "a4"):
        raise PacketError(f"{path}: 'paper' must be letter or a4")
    return Common(
        path=path,
        disclaimer=text("disclaimer", "organisation"),
        page_label=text("page_label", "page", "pages"),
        revised_label=text("revised_label", "date"),
        date_format=text("date_format", "day", "month", "year"),
        months=tuple(months),
        paper=paper,
    )


@dataclass(frozen=True)
class Catalogue:
    """Every packet source, by language; built by :func:`load_catalogue`."""

    replies_dir: Path
    sources: dict[str, dict[str, PacketSource]]
    commons: dict[str, Common]

    def languages(self) -> tuple[str, ...]:
        """The languages that have packets, sorted."""
        return tuple(sorted(self.sources))

    def packet(self, lang: str, packet_id: str) -> PacketSource:
        """One packet's source; :class:`PacketError` if the language or packet is unknown."""
        if packet_id not in PACKET_IDS:
            raise PacketError(f"unknown packet {packet_id!r}; known: {', '.join(PACKET_IDS)}")
        if lang not in self.sources:
            raise PacketError(f"no packets in language {lang!r}; available: {', '.join(self.languages())}")
        return self.sources[lang][packet_id]

    def common(self, lang: str) -> Common:
        """The page furniture (disclaimer, labels) of one language."""
        if lang not in self.commons:
            raise PacketError(f"no packets in language {lang!r}; available: {', '.join(self.languages())}")
        return self.commons[lang]


def packets_dir(replies_dir: Path, lang: str) -> Path:
    """Where one language's packet sources live."""
    return Path(replies_dir) / lang / "packets"


def load_catalogue(replies_dir: Path) -> Catalogue:
    """Read every language's packet sources under ``replies_dir``.

    Raises :class:`PacketError` for the first wrong or missing file, naming it,
    and when packets of one id differ in their box names between languages
    (a filled-in form must mean the same whatever its language).
    """
    replies_dir = Path(replies_dir)
    sources: dict[str, dict[str, PacketSource]] = {}
    commons: dict[str, Common] = {}
    if not replies_dir.is_dir():
        raise PacketError(f"{replies_dir}: the replies folder does not exist")
    for lang_dir in sorted(p for p in replies_dir.iterdir() if (p / "packets").is_dir()):
        lang, folder = lang_dir.name, lang_dir / "packets"
        commons[lang] = load_common(folder / COMMON_FILE)
        sources[lang] = {}
        filenames: dict[str, str] = {}
        for packet_id in PACKET_IDS:
            path = folder / f"{packet_id}.md"
            if not path.is_file():
                raise PacketError(f"{path}: missing; every language with packets needs all of them")
            source = parse_source(path, packet_id, lang)
            if source.filename in filenames:
                raise PacketError(
                    f"{path}: filename {source.filename} is also used by {filenames[source.filename]}"
                )
            filenames[source.filename] = packet_id
            sources[lang][packet_id] = source
    _check_same_fields(sources)
    return Catalogue(replies_dir, sources, commons)


def _check_same_fields(sources: dict[str, dict[str, PacketSource]]) -> None:
    langs = sorted(sources)
    for packet_id in PACKET_IDS:
        names = {lang: {f.name for f in sources[lang][packet_id].fields()} for lang in langs}
        for lang in langs[1:]:
            missing, extra = names[langs[0]] - names[lang], names[lang] - names[langs[0]]
            if missing or extra:
                raise PacketError(
                    f"{sources[lang][packet_id].path}: box names differ from {langs[0]}: "
                    f"missing {sorted(missing)}, extra {sorted(extra)}"
                )
