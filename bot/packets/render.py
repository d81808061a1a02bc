"""Turn one parsed packet into PDF bytes.

Every page carries the organisation's name and the packet's title at the
top, and the disclaimer, revision date and "page N of M" at the bottom. The
output is deterministic: reportlab's invariant mode plus a creation date
taken from the packet's revision date, so the same sources and organisation
always give the same bytes (rebuilding leaves git and caches quiet).
"""

from __future__ import annotations

import calendar
import io
from collections.abc import Callable

from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.units import inch
from reportlab.lib.utils import TimeStamp
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, SimpleDocTemplate, Spacer
from reportlab.platypus import Paragraph as RLParagraph

from bot.packets.catalogue import Common
from bot.packets.forms import field_row, form_table
from bot.packets.model import Bullets, FieldRow, Heading, PacketSource, Paragraph, Table
from bot.packets.styles import ACCENT, FONT, FONT_BOLD, MUTED, RULE, Styles, fill, inline, make_styles

MARGIN = 0.75 * inch
PAD = 6.0  # the platypus frame's inner padding: header and footer line up with the text
HEADER_SPACE = 0.8 * inch  # from the top edge to the first line of text
CREATOR = "ALS helpdesk bot (bot.packets)"


def _fixed_stamp(source: PacketSource) -> TimeStamp:
    """A reportlab timestamp pinned to midnight UTC of the revision date."""
    stamp = TimeStamp(invariant=1)
    stamp.t = calendar.timegm(source.revised.timetuple())
    stamp.YMDhms = (source.revised.year, source.revised.month, source.revised.day, 0, 0, 0)
    return stamp


def _canvas_maker(stamp: TimeStamp) -> type[Canvas]:
    class _DatedCanvas(Canvas):
        # reportlab takes the document date from this stamp when it writes the info dictionary.
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]
            self._doc._timeStamp = stamp

    return _DatedCanvas


def _story(source: PacketSource, styles: Styles, organisation: str, width: float) -> list[Flowable]:
    story: list[Flowable] = []
    for index, block in enumerate(source.blocks):
        following = source.blocks[index + 1] if index + 1 < len(source.blocks) else None
        if isinstance(block, Paragraph) and isinstance(following, FieldRow | Table):
            # An explanation stays on the page of the boxes it explains.
            story.append(RLParagraph(inline(block.text, organisation), styles.lead_in))
        elif isinstance(block, Heading):
            style = {1: styles.title, 2: styles.h2}.get(block.level, styles.h3)
            story.append(RLParagraph(inline(block.text, organisation), style))
        elif isinstance(block, Paragraph):
            story.append(RLParagraph(inline(block.text, organisation), styles.body))
        elif isinstance(block, Bullets):
            story.extend(
                RLParagraph(inline(i, organisation), styles.bullet, bulletText="\u2022") for i in block.items
            )
            story.append(Spacer(1, 4))
        elif isinstance(block, FieldRow):
            story.append(field_row(block, styles, organisation, width))
        elif isinstance(block, Table):
            story.append(form_table(block, styles, organisation, width))
            story.append(Spacer(1, 8))
    return story


def _page_decorator(
    source: PacketSource, common: Common, organisation: str, styles: Styles, pages: int, seen: list[int]
) -> tuple[Callable[[Canvas, SimpleDocTemplate], None], float]:
    """The header/footer painter and the footer's height (the bottom margin depends on it)."""
    page_w, page_h = _page_size(common)
    left, right = MARGIN + PAD, page_w - MARGIN - PAD
    width = right - left
    disclaimer = RLParagraph(inline(common.disclaimer, organisation), styles.footer)
    _, disclaimer_h = disclaimer.wrap(width, page_h)
    footer_h = disclaimer_h + 26  # rule + disclaimer + the revision/page line
    revised = common.revised_label.format(date=common.format_date(source.revised))

    def paint(canv: Canvas, doc: SimpleDocTemplate) -> None:
        number = canv.getPageNumber()
        seen.append(number)
        canv.saveState()
        # Header: who we are, and which packet this page belongs to.
        top = page_h - 0.5 * inch
        canv.setFont(FONT_BOLD, 10)
        canv.setFillColor(ACCENT)
        canv.drawString(left, top, organisation)
        canv.setFont(FONT, 9)
        canv.setFillColor(MUTED)
        canv.drawRightString(right, top, fill(source.title, organisation))
        canv.setStrokeColor(RULE)
        canv.setLineWidth(0.7)
        canv.line(left, top - 6, right, top - 6)
        # Footer: the disclaimer, then revision date and page number on one line.
        bottom = 0.45 * inch
        canv.line(left, bottom + footer_h - 6, right, bottom + footer_h - 6)
        disclaimer.drawOn(canv, left, bottom + 14)
        canv.setFont(FONT, 8)
        canv.setFillColor(MUTED)
        canv.drawString(left, bottom, revised)
        canv.drawRightString(right, bottom, common.page_label.format(page=number, pages=pages))
        canv.restoreState()

    return paint, 0.45 * inch + footer_h + 6


def _page_size(common: Common) -> tuple[float, float]:
    return A4 if common.paper == "a4" else LETTER


def _render_once(source: PacketSource, common: Common, organisation: str, pages: int) -> tuple[bytes, int]:
    styles = make_styles()
    seen: list[int] = []
    paint, bottom = _page_decorator(source, common, organisation, styles, pages, seen)
    out = io.BytesIO()
    title = fill(source.title, organisation)
    doc = SimpleDocTemplate(
        out,
        pagesize=_page_size(common),
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=HEADER_SPACE,
        bottomMargin=bottom,
        title=title,
        author=organisation,
        subject=fill(source.description, organisation) or title,
        creator=CREATOR,
        producer=CREATOR,
        lang=source.lang,
        invariant=1,
    )
    story = _story(source, styles, organisation, doc.width - 2 * PAD)
    doc.build(story, onFirstPage=paint, onLaterPages=paint, canvasmaker=_canvas_maker(_fixed_stamp(source)))
    return out.getvalue(), max(seen, default=1)


def render_packet(source: PacketSource, common: Common, organisation: str) -> bytes:
    """The packet as PDF bytes; same inputs, same bytes.

    Laid out twice: the first pass counts the pages for "page N of M".
    """
    _, pages = _render_once(source, common, organisation, pages=0)
    data, again = _render_once(source, common, organisation, pages=pages)
    if again != pages:  # the total's width cannot change the flow, but never print a wrong total
        data, _ = _render_once(source, common, organisation, pages=again)
    return data
