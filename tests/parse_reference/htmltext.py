"""HTML to plain text, for mail that has no plain part.

The one public entry is :func:`html_to_text`. It never executes or fetches
anything: the standard library's tolerant :class:`html.parser.HTMLParser`
only reads tags and text, and whatever cannot be read is dropped. The
output keeps the structure the later stages rely on: block elements become
line breaks, ``<blockquote>`` contents become ``> `` quoted lines (so
:func:`bot.quoting.split_quoted` can tell a Gmail or Thunderbird quote from
new text), ``<hr>`` becomes Outlook's underscore rule, and a Gmail
signature block is preceded by the ``-- `` signature line.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

__all__ = ["html_to_text"]

# Elements whose content is never text a person wrote to us.
_SKIP = frozenset({"script", "style", "head", "title", "template", "noscript", "svg", "object", "xml"})
# Elements that start and end on their own line.
_BLOCK = frozenset(
    {
        "p", "div", "section", "article", "header", "footer", "main", "aside", "nav", "table",
        "thead", "tbody", "tfoot", "tr", "ul", "ol", "dl", "dt", "dd", "h1", "h2", "h3", "h4",
        "h5", "h6", "pre", "address", "center", "form", "fieldset", "figure", "body", "html",
    }
)  # fmt: skip
_VOID_BREAK = frozenset({"br"})
_HR = "_" * 32  # what Outlook's own plain part shows above a quoted message
_SPACES = re.compile(r"[ \t\r\n\f\v\u00a0\u200b]+")
_MANY_BLANKS = re.compile(r"\n{3,}")


class _TextExtractor(HTMLParser):
    """Collects text as lines; blockquote depth is remembered per line."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[tuple[int, str]] = []  # (quote depth, text)
        self._line: list[str] = []
        self._skip = 0
        self._quote = 0
        self._pre = 0
        self._links: list[tuple[str, int]] = []  # (href or "", where its words start)

    # -- helpers ---------------------------------------------------------
    def _break(self) -> None:
        text = "".join(self._line)
        text = text.rstrip() if self._pre else _SPACES.sub(" ", text).strip()
        self.lines.append((self._quote, text))
        self._line = []

    def _block(self) -> None:
        # A block boundary only breaks the line when something is on it, so
        # nested <div><div> do not pile up blank lines.
        if "".join(self._line).strip():
            self._break()

    # -- parser callbacks ------------------------------------------------
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self._skip += 1
            return
        if self._skip:
            return
        attr = {k: (v or "") for k, v in attrs}
        if tag in _VOID_BREAK:
            self._break()
        elif tag == "hr":
            self._block()
            self.lines.append((self._quote, _HR))
        elif tag == "blockquote":
            self._block()
            self._quote += 1
        elif tag == "li":
            self._block()
            self._line.append("- ")
        elif tag in ("td", "th"):
            self._line.append(" ")
        elif tag == "pre":
            self._block()
            self._pre += 1
        elif tag in _BLOCK:
            self._block()
            if "gmail_signature" in (attr.get("class", "") + attr.get("data-smartmail", "")):
                self.lines.append((self._quote, "-- "))
        if tag == "a":
            href = attr.get("href", "").strip()
            keep = href if href.lower().startswith(("http://", "https://")) else ""
            self._links.append((keep, len("".join(self._line))))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID_BREAK and tag != "hr":
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self._skip = max(0, self._skip - 1)
            return
        if self._skip:
            return
        if tag == "blockquote":
            self._block()
            self._quote = max(0, self._quote - 1)
        elif tag == "pre":
            self._block()
            self._pre = max(0, self._pre - 1)
        elif tag in _BLOCK or tag == "li":
            self._block()
        elif tag == "a" and self._links:
            href, start = self._links.pop()
            shown = "".join(self._line)[start:].strip()
            # Keep a link's address when its words do not already show it:
            # "is this product safe: <this one>" means nothing without it.
            if href and href not in shown and shown:
                self._line.append(f" <{href}>")

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._pre:
            parts = data.replace("\r\n", "\n").split("\n")
            for i, part in enumerate(parts):
                if i:
                    self._break()
                self._line.append(part)
            return
        self._line.append(_SPACES.sub(" ", data))

    def close(self) -> None:
        super().close()
        self._block()


def html_to_text(html: str) -> str:
    """Readable plain text for ``html``; never raises, never fetches anything.

    Line structure follows the blocks; quoted blocks come out as ``> ``
    lines; runs of blank lines are collapsed to one.
    """
    parser = _TextExtractor()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # noqa: BLE001 - hostile HTML: keep what was read so far
        parser._block()
    out = []
    for depth, line in parser.lines:
        out.append(("> " * depth + line) if line.strip() or line == "-- " else ">" * depth)
    joined = "\n".join(out)
    return _MANY_BLANKS.sub("\n\n", joined).strip("\n")
