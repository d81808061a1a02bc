"""The filters reply templates use to write HTML from plain text: ``paragraphs`` and ``linebreaks``.

Both always escape, so text from a topic template or a sender can never
become markup in the HTML part.
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape


def paragraphs(text: str) -> Markup:
    """Plain text to HTML: blank lines separate paragraphs, ``- `` lines make a list.

    Always escapes, so text from a topic template or a sender can never
    become markup in the HTML part.
    """
    if type(text) is not str:  # a Markup or a number: str() decides what is seen, so no memory
        return _paragraphs(str(text))
    html = _PARAGRAPHS.get(text)
    if html is None:
        html = _paragraphs(text)
        if len(_PARAGRAPHS) >= _MAX_PARAGRAPHS:
            _PARAGRAPHS.clear()
        _PARAGRAPHS[text] = html
    return html


# Topic sections and disclaimers recur in every reply: each one's HTML is worked out once.
_PARAGRAPHS: dict[str, Markup] = {}
_MAX_PARAGRAPHS = 1024
_BLANK_LINES = re.compile(r"\n\s*\n")


def _paragraphs(text: str) -> Markup:
    out: list[str] = []
    for block in _BLANK_LINES.split(text.strip()):
        para: list[str] = []
        items: list[list[str]] = []
        for line in (ln.strip() for ln in block.splitlines()):
            if line.startswith(("- ", "* ")):
                items.append([line[2:].strip()])
            elif items:  # a list item wrapped onto the next line
                items[-1].append(line)
            elif line:
                para.append(line)
        if para:
            out.append(f"<p>{escape(' '.join(para))}</p>")
        if items:
            out.append("<ul>" + "".join(f"<li>{escape(' '.join(i))}</li>" for i in items) + "</ul>")
    return Markup("\n".join(out))


def linebreaks(text: str) -> Markup:
    """Escape ``text`` and keep its line breaks (signatures)."""
    return Markup("<br>\n".join(str(escape(ln)) for ln in str(text).strip().splitlines()))
