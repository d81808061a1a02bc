"""Fillable boxes as platypus flowables, so forms flow and break like text.

Each box is an AcroForm field (type into it on screen) that also draws its
own border and fill into the page (``forceBorder``), so a printed blank form
shows where to write even from a reader that does not print fields.
"""

from __future__ import annotations

from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Flowable, TableStyle
from reportlab.platypus import Paragraph as RLParagraph
from reportlab.platypus import Table as RLTable

from bot.packets.model import Field, FieldRow, Table
from bot.packets.styles import (
    BOX_BORDER,
    BOX_FILL,
    FONT,
    FONT_BOLD,
    HEADER_FILL,
    INK,
    RULE,
    Styles,
    fill,
    inline,
)

LINE_HEIGHT = 12.0  # one written line inside a multi-line box
GAP = 8.0  # between boxes on a line
CHECK_SIZE = 11.0


def box_height(lines: int) -> float:
    """A one-line box fits 10 pt typing; taller boxes grow a line at a time."""
    return 18.0 if lines <= 1 else 6.0 + LINE_HEIGHT * lines


class TextBox(Flowable):
    """A text field as wide as it is given; ``lines`` > 1 makes it multi-line."""

    def __init__(self, name: str, tooltip: str, lines: int = 1) -> None:
        super().__init__()
        self.name, self.tooltip, self.lines = name, tooltip, lines
        self.width, self.height = 0.0, box_height(lines)

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:  # noqa: N803
        self.width = availWidth
        return self.width, self.height

    def draw(self) -> None:
        multi = self.lines > 1
        self.canv.acroForm.textfield(
            name=self.name,
            tooltip=self.tooltip,
            x=0,
            y=0,
            width=self.width,
            height=self.height,
            relative=True,  # the flowable is drawn in a translated canvas
            borderWidth=0.6,
            borderColor=BOX_BORDER,
            fillColor=BOX_FILL,
            textColor=INK,
            fontName=FONT,
            fontSize=9 if multi else 10,
            fieldFlags="multiline" if multi else "",
            maxlen=0,  # no length limit: notes can be long
            forceBorder=True,
        )


class CheckRow(Flowable):
    """An optional lead-in text, then tick boxes with labels, wrapping onto more lines."""

    def __init__(self, lead: str, items: list[tuple[str, str]], font_size: float = 10) -> None:
        super().__init__()
        self.lead, self.items, self.font_size = lead, items, font_size
        self.leading = font_size + 5
        self.spaceAfter = 6  # the same breathing room as below a row of text boxes
        self._placed: list[tuple[str, str, float, int, list[str]]] = []
        self.width = self.height = 0.0

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:  # noqa: N803
        """Place every box: (name, tooltip, x, line index, label lines)."""
        size = self.font_size
        lead_w = stringWidth(self.lead, FONT_BOLD, size) + GAP if self.lead else 0.0
        # Boxes continue under the lead-in only when it is short; else they use the full width.
        indent = lead_w if lead_w < availWidth * 0.4 else 0.0
        x, line, placed = lead_w, 0, []
        if self.lead and indent == 0.0:
            x, line = 0.0, 1
        for name, label in self.items:
            room = availWidth - x - CHECK_SIZE - 4
            natural = stringWidth(label, FONT, size)
            if natural > room and x > indent:
                x, line = indent, line + 1
                room = availWidth - x - CHECK_SIZE - 4
            text = simpleSplit(label, FONT, size, room) or [""]
            placed.append((name, label, x, line, text))
            width = CHECK_SIZE + 4 + max(stringWidth(t, FONT, size) for t in text)
            line += len(text) - 1
            x += width + 2 * GAP
        self._placed = placed
        lines = max([p[3] + 1 for p in placed] + [1])
        self.width, self.height = availWidth, lines * self.leading + 2
        return self.width, self.height

    def draw(self) -> None:
        canv, size = self.canv, self.font_size
        top = self.height - self.leading + 4  # baseline of the first line
        if self.lead:
            canv.setFont(FONT_BOLD, size)
            canv.setFillColor(INK)
            canv.drawString(0, top, self.lead)
        for name, tooltip, x, line, text in self._placed:
            base = top - line * self.leading
            canv.acroForm.checkbox(
                name=name,
                tooltip=tooltip,
                x=x,
                y=base - 2,
                size=CHECK_SIZE,
                relative=True,
                buttonStyle="check",
                borderWidth=0.6,
                borderColor=BOX_BORDER,
                fillColor=BOX_FILL,
                textColor=INK,
                fieldFlags="",  # not required: an empty tick box is a valid answer
                forceBorder=True,
            )
            canv.setFont(FONT, size)
            canv.setFillColor(INK)
            for i, part in enumerate(text):
                canv.drawString(x + CHECK_SIZE + 4, base - i * self.leading, part)


class _WholeTable(RLTable):
    """A table that moves to the next page whole: a label never ends a page without its box.

    (Not a KeepTogether: platypus will not chain a keepWithNext heading to one.)
    """

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:  # noqa: N803
        return []


def _widths(fields: tuple[Field, ...], total: float) -> list[float]:
    """Explicit shares first; what is left is split evenly among the rest."""
    usable = total - GAP * (len(fields) - 1)
    fixed = sum(f.width or 0 for f in fields)
    free = [f for f in fields if f.width is None]
    share = (1 - fixed) / len(free) if free else 0
    return [usable * (f.width if f.width is not None else share) for f in fields]


def field_row(row: FieldRow, styles: Styles, organisation: str, width: float) -> Flowable:
    """A line of labelled text boxes (labels above, boxes aligned) or a row of tick boxes."""
    if row.fields[0].kind == "check":
        items = [(f.name, fill(f.label, organisation)) for f in row.fields]
        return CheckRow(fill(row.lead, organisation), items)
    widths = _widths(row.fields, width)
    labels = [RLParagraph(inline(f.label, organisation), styles.label) for f in row.fields]
    boxes = [TextBox(f.name, fill(f.label, organisation), f.lines) for f in row.fields]
    col_widths = [w + GAP for w in widths[:-1]] + [widths[-1]]
    table = _WholeTable([labels, boxes], colWidths=col_widths, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-2, -1), GAP),
                ("RIGHTPADDING", (-1, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, 0), 2),
                ("BOTTOMPADDING", (0, 1), (-1, 1), 7),
                ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),  # boxes line up even if a label wraps
            ]
        )
    )
    return table


def form_table(block: Table, styles: Styles, organisation: str, width: float) -> Flowable:
    """A grid of text and boxes; the first column is narrower when it labels the rows."""
    columns = len(block.rows[0])
    first = 0.28 if columns > 2 else 0.32
    col_widths = (
        [width] if columns == 1 else [width * first] + [width * (1 - first) / (columns - 1)] * (columns - 1)
    )
    data: list[list[Flowable]] = []
    if block.header:
        data.append([RLParagraph(inline(h, organisation), styles.cell_head) for h in block.header])
    for row in block.rows:
        row_label = next((c for c in row if isinstance(c, str) and c), "")
        cells: list[Flowable] = []
        for index, cell in enumerate(row):
            if isinstance(cell, Field):
                column = block.header[index] if block.header else ""
                tip = cell.label or " - ".join(t for t in (row_label, column) if t)
                cells.append(TextBox(cell.name, fill(tip, organisation), cell.lines))
            else:
                cells.append(RLParagraph(inline(cell, organisation), styles.cell))
        data.append(cells)
    table = RLTable(data, colWidths=col_widths, repeatRows=1 if block.header else 0, hAlign="LEFT")
    commands = [
        ("GRID", (0, 0), (-1, -1), 0.5, RULE),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("LEFTPADDING", (0, 0), (-1, -1), 5),
        ("RIGHTPADDING", (0, 0), (-1, -1), 5),
        ("TOPPADDING", (0, 0), (-1, -1), 4),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
    ]
    if block.header:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), HEADER_FILL))
    table.setStyle(TableStyle(commands))
    return table
