"""The packet source markup: a small Markdown-like text that admins can edit.

A source file is YAML front matter between ``---`` lines, then the body::

    ---
    title: General Information          # printed at the top of every page
    filename: general-information.pdf   # the attachment's name
    revised: 2026-11-25                 # printed on every page; also the PDF's date
    description: One line for the PDF's subject (optional).
    ---
    # Big heading            ## Section heading          ### Small heading
    A paragraph: lines next to each other are joined; a blank line ends it.
    **Bold words** are allowed inside any text.
    - A bullet; an indented next line continues it.
    [patient_name: Patient's name | 60%]  [dob: Date of birth]
    Type: [sporadic: Sporadic | check]  [familial: Familial | check]
    | Header | Before | After |      <- a table; the |---| line marks a header
    |--------|--------|-------|
    | Speech | [speech_start | 3 lines] | [speech_1m | 3 lines] |

A box is ``[name: Label | options]``: ``name`` is the fillable field's name
(letters, digits, ``_``; unique in the packet and the same in every language),
options are ``NN%`` (share of the line), ``N lines`` (a taller box) and
``check`` (a tick box instead of a text box). A line holding boxes holds only
boxes (text boxes or tick boxes, not both), optionally after a lead-in text.
``{organisation}`` anywhere is replaced by the organisation's name.

Every character must be printable with the packets' fonts (Windows-1252,
which covers Spanish, Portuguese, French, Italian and German); anything else
is refused with its file and line, like every other mistake (:class:`PacketError`).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Literal

import yaml

from bot.packets.model import (
    Block,
    Bullets,
    Cell,
    Field,
    FieldRow,
    Heading,
    PacketError,
    PacketSource,
    Paragraph,
    Table,
    check_printable,
)

_NAME = r"[A-Za-z][A-Za-z0-9_]*"
TOKEN = re.compile(rf"\[\s*({_NAME})\s*(?::([^|\]]*))?(?:\|([^\]]*))?\]")
_SEPARATOR_CELL = re.compile(r":?-{3,}:?")
_FILENAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\.pdf")


def _front_matter(lines: list[str], where: str) -> tuple[dict[str, object], int]:
    if not lines or lines[0].strip() != "---":
        raise PacketError(f"{where}:1: expected '---' and the front matter (title, filename, revised)")
    for end in range(1, len(lines)):
        if lines[end].strip() == "---":
            break
    else:
        raise PacketError(f"{where}: the front matter has no closing '---'")
    try:
        meta = yaml.safe_load("\n".join(lines[1:end])) or {}
    except yaml.YAMLError as exc:
        raise PacketError(f"{where}: the front matter is not valid YAML ({exc})") from None
    if not isinstance(meta, dict):
        raise PacketError(f"{where}: the front matter must be 'key: value' lines")
    return meta, end + 1


def _field(match: re.Match[str], where: str, need_label: bool) -> Field:
    name, label, options = match.group(1), (match.group(2) or "").strip(), match.group(3) or ""
    if need_label and not label:
        raise PacketError(f"{where}: the box [{name}] needs a label: [{name}: Label]")
    kind: Literal["text", "check"] = "text"
    width: float | None = None
    lines = 1
    for option in filter(None, (o.strip() for o in options.split(","))):
        if option == "check":
            kind = "check"
        elif m := re.fullmatch(r"(\d+)\s*%", option):
            width = int(m.group(1)) / 100
            if not 0 < width <= 1:
                raise PacketError(f"{where}: width {option} must be between 1% and 100%")
        elif m := re.fullmatch(r"(\d+)\s*lines?", option):
            lines = max(1, int(m.group(1)))
        else:
            raise PacketError(f"{where}: unknown box option {option!r} (use NN%, N lines or check)")
    return Field(name, label, kind, width, lines)


def _field_row(line: str, where: str) -> FieldRow:
    first = TOKEN.search(line)
    assert first is not None
    fields, pos = [], first.start()
    while pos < len(line):
        match = TOKEN.match(line, pos)
        if not match:
            raise PacketError(f"{where}: only boxes may follow the first box on a line: {line[pos:]!r}")
        fields.append(_field(match, where, need_label=True))
        pos = match.end()
        while pos < len(line) and line[pos].isspace():
            pos += 1
    kinds = {f.kind for f in fields}
    if len(kinds) > 1:
        raise PacketError(f"{where}: put text boxes and tick boxes on separate lines")
    if sum(f.width or 0 for f in fields) > 1.0001:
        raise PacketError(f"{where}: the box widths add up to more than 100%")
    return FieldRow(line[: first.start()].strip(), tuple(fields))


def _cells(line: str) -> list[str]:
    """Split a table row on '|', except inside [boxes] so '[notes | 3 lines]' stays one cell."""
    cells, current, depth = [], "", 0
    for ch in line.strip().removeprefix("|").removesuffix("|"):
        depth += {"[": 1, "]": -1}.get(ch, 0)
        if ch == "|" and depth <= 0:
            cells.append(current.strip())
            current = ""
        else:
            current += ch
    return [*cells, current.strip()]


def _table(rows: list[tuple[int, str]], where: str) -> Table:
    header: tuple[str, ...] | None = None
    parsed: list[tuple[int, list[str]]] = []
    for number, line in rows:
        cells = _cells(line)
        if all(_SEPARATOR_CELL.fullmatch(c) for c in cells):
            # Markdown's header marker: only meaningful right after the first row.
            if len(parsed) != 1 or header is not None:
                raise PacketError(f"{where}:{number}: a '|---|' line may only follow the first row")
            header = tuple(parsed.pop()[1])
            continue
        parsed.append((number, cells))
    if not parsed:
        raise PacketError(f"{where}:{rows[0][0]}: the table has no rows")
    width = len(header) if header else len(parsed[0][1])
    body: list[tuple[Cell, ...]] = []
    for number, cells in parsed:
        if len(cells) != width:
            raise PacketError(f"{where}:{number}: this row has {len(cells)} cells, the table has {width}")
        row: list[Cell] = []
        for cell in cells:
            match = TOKEN.fullmatch(cell)
            row.append(_field(match, f"{where}:{number}", need_label=False) if match else cell)
        body.append(tuple(row))
    return Table(header, tuple(body))


def parse_body(lines: list[str], where: str, first_line: int = 1) -> list[Block]:
    """Parse body lines into blocks; ``first_line`` numbers them in error messages."""
    blocks: list[Block] = []
    para: list[str] = []
    bullets: list[str] = []
    table: list[tuple[int, str]] = []

    def flush() -> None:
        if para:
            blocks.append(Paragraph(" ".join(para)))
            para.clear()
        if bullets:
            blocks.append(Bullets(tuple(bullets)))
            bullets.clear()
        if table:
            blocks.append(_table(list(table), where))
            table.clear()

    for number, raw in enumerate(lines, first_line):
        here = f"{where}:{number}"
        check_printable(raw, here)
        line = raw.strip()
        if table and not line.startswith("|"):
            flush()
        if not line:
            flush()
        elif heading := re.fullmatch(r"(#{1,3})\s+(.*)", line):
            flush()
            blocks.append(Heading(len(heading.group(1)), heading.group(2).strip()))
        elif line.startswith("|"):
            if para or bullets:
                flush()
            table.append((number, line))
        elif line.startswith("- "):
            if para:
                flush()
            bullets.append(line[2:].strip())
        elif bullets and raw[:1].isspace():
            bullets[-1] += " " + line  # an indented line continues the bullet above
        elif TOKEN.search(line):
            flush()
            blocks.append(_field_row(line, here))
        else:
            if bullets:
                flush()
            para.append(line)
    flush()
    return blocks


def parse_source(path: Path, packet_id: str, lang: str) -> PacketSource:
    """Read and check one packet source file; raises :class:`PacketError` naming file and line."""
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PacketError(f"{where}: cannot read the packet source ({exc.strerror})") from None
    lines = text.splitlines()
    meta, body_start = _front_matter(lines, where)
    unknown = set(meta) - {"title", "filename", "revised", "description"}
    if unknown:
        raise PacketError(f"{where}: unknown front matter key(s): {', '.join(sorted(unknown))}")
    title, filename, revised = meta.get("title"), meta.get("filename"), meta.get("revised")
    if not isinstance(title, str) or not title.strip():
        raise PacketError(f"{where}: the front matter needs 'title: ...'")
    if not isinstance(filename, str) or not _FILENAME.fullmatch(filename):
        raise PacketError(f"{where}: 'filename' must be a plain name ending in .pdf, like my-packet.pdf")
    if not isinstance(revised, dt.date) or isinstance(revised, dt.datetime):
        raise PacketError(f"{where}: 'revised' must be a date written YYYY-MM-DD")
    description = str(meta.get("description") or "")
    blocks = parse_body(lines[body_start:], where, body_start + 1)
    source = PacketSource(packet_id, lang, path, title.strip(), filename, revised, description, tuple(blocks))
    seen: set[str] = set()
    for f in source.fields():
        if f.name in seen:
            raise PacketError(f"{where}: the box name {f.name!r} is used twice")
        seen.add(f.name)
    return source
