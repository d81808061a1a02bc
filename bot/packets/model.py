"""What a parsed packet is: blocks of text and boxes, independent of the markup and of PDF.

:mod:`bot.packets.markup` makes these from source files;
:mod:`bot.packets.render` turns them into PDF.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

# The base-14 PDF fonts print exactly this character set (WinAnsiEncoding).
PRINTABLE_ENCODING = "cp1252"


class PacketError(ValueError):
    """A packet source or its configuration is wrong; the message names the file and line."""


@dataclass(frozen=True)
class Field:
    """One fillable box: a text box (``lines`` tall) or a tick box."""

    name: str
    label: str
    kind: Literal["text", "check"] = "text"
    width: float | None = None  # share of the line, 0..1; None shares what is left
    lines: int = 1


@dataclass(frozen=True)
class Heading:
    level: int
    text: str


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Bullets:
    items: tuple[str, ...]


@dataclass(frozen=True)
class FieldRow:
    """A line of boxes, with an optional lead-in text (used before tick boxes)."""

    lead: str
    fields: tuple[Field, ...]


Cell = str | Field


@dataclass(frozen=True)
class Table:
    """Rows of text and boxes; ``header`` is None when the table has no header row."""

    header: tuple[str, ...] | None
    rows: tuple[tuple[Cell, ...], ...]


Block = Heading | Paragraph | Bullets | FieldRow | Table


@dataclass(frozen=True)
class PacketSource:
    """One packet in one language, parsed; ``revised`` is also the PDF's creation date."""

    packet_id: str
    lang: str
    path: Path
    title: str
    filename: str
    revised: dt.date
    description: str = ""
    blocks: tuple[Block, ...] = field(default=())

    def fields(self) -> list[Field]:
        """Every fillable box in reading order."""
        found: list[Field] = []
        for block in self.blocks:
            if isinstance(block, FieldRow):
                found.extend(block.fields)
            elif isinstance(block, Table):
                found.extend(c for row in block.rows for c in row if isinstance(c, Field))
        return found


def check_printable(text: str, where: str) -> None:
    """Refuse text with a character the packet fonts cannot print, naming it."""
    for ch in text:
        try:
            ch.encode(PRINTABLE_ENCODING)
        except UnicodeEncodeError:
            raise PacketError(f"{where}: the character {ch!r} (U+{ord(ch):04X}) cannot be printed") from None
