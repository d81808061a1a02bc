"""The packets' look: fonts, sizes and colours in one place, and inline text markup.

The fonts are the PDF base-14 Helvetica family: every PDF reader has them,
nothing is embedded (so builds are small and byte-for-byte repeatable), and
with WinAnsiEncoding they print every Latin-1 letter (á é í ó ú ü ñ ¿ ¡).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.styles import ParagraphStyle

FONT = "Helvetica"
FONT_BOLD = "Helvetica-Bold"

INK = colors.HexColor("#1A1A1A")
ACCENT = colors.HexColor("#1F4E79")  # headings and rules: a calm dark blue
MUTED = colors.HexColor("#555555")
RULE = colors.HexColor("#9FB3C8")
BOX_BORDER = colors.HexColor("#7A8EA3")
BOX_FILL = colors.HexColor("#F3F6FA")  # a pale fill shows where to write, on screen and on paper
HEADER_FILL = colors.HexColor("#E4ECF4")


@dataclass(frozen=True)
class Styles:
    """The paragraph styles every packet uses."""

    title: ParagraphStyle
    h2: ParagraphStyle
    h3: ParagraphStyle
    body: ParagraphStyle
    lead_in: ParagraphStyle
    bullet: ParagraphStyle
    label: ParagraphStyle
    cell: ParagraphStyle
    cell_head: ParagraphStyle
    footer: ParagraphStyle


def make_styles() -> Styles:
    """A fresh set of styles (they are mutable objects, so never shared between builds)."""
    body = ParagraphStyle(
        "body", fontName=FONT, fontSize=10.5, leading=14.5, textColor=INK, alignment=TA_LEFT, spaceAfter=7
    )
    return Styles(
        title=ParagraphStyle(
            "title", parent=body, fontName=FONT_BOLD, fontSize=18, leading=22, textColor=ACCENT, spaceAfter=10
        ),
        h2=ParagraphStyle(
            "h2",
            parent=body,
            fontName=FONT_BOLD,
            fontSize=13,
            leading=16,
            textColor=ACCENT,
            spaceBefore=8,
            spaceAfter=5,
            keepWithNext=1,
        ),
        h3=ParagraphStyle(
            "h3", parent=body, fontName=FONT_BOLD, fontSize=11, leading=14, spaceBefore=4, keepWithNext=1
        ),
        body=body,
        lead_in=ParagraphStyle("lead_in", parent=body, keepWithNext=1),
        bullet=ParagraphStyle("bullet", parent=body, leftIndent=16, bulletIndent=4, spaceAfter=3),
        label=ParagraphStyle("label", parent=body, fontSize=8.5, leading=10, textColor=MUTED, spaceAfter=0),
        cell=ParagraphStyle("cell", parent=body, fontSize=9.5, leading=12, spaceAfter=0),
        cell_head=ParagraphStyle(
            "cell_head", parent=body, fontName=FONT_BOLD, fontSize=9.5, leading=12, spaceAfter=0
        ),
        footer=ParagraphStyle(
            "footer", parent=body, fontSize=7.5, leading=9.2, textColor=MUTED, spaceAfter=0
        ),
    )


_BOLD = re.compile(r"\*\*(.+?)\*\*")


def fill(text: str, organisation: str) -> str:
    """Plain text with ``{organisation}`` replaced (for labels, tooltips, metadata)."""
    return text.replace("{organisation}", organisation)


def inline(text: str, organisation: str) -> str:
    """Source text as reportlab paragraph markup: escaped, ``**bold**`` made bold."""
    return _BOLD.sub(r"<b>\1</b>", escape(fill(text, organisation)))
