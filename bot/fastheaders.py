"""Header objects for the fast MIME splitter: ``email.policy.default``'s, made once not every time.

``email.policy.default`` parses a header into an object every time a
message method asks for it (``get_content_type`` alone parses
Content-Type again). :data:`POLICY` is that policy with the objects cached
by (name, raw value), since a header object is an immutable value of those
two. Content-Type and Content-Disposition values that are unique to one
message (a boundary, a file name) are not worth caching: when written
plainly (``type/subtype; name=value; name="value"``), a stand-in with the
same ``str()`` and ``content_disposition`` is built with one regular
expression, which is all the message methods read of them.
``tests/test_parse_fast.py`` compares stand-ins with the real objects.
"""

from __future__ import annotations

import email.policy
import re
from email.policy import EmailPolicy
from functools import lru_cache

__all__ = ["POLICY"]

_TOKEN = r"[A-Za-z0-9!#$&+.^_`|~-]+"
# A quoted value of printable ASCII with no quote, backslash or encoded word in it.
_QUOTED = r'"(?:[ !#-<>-\[\]-~]|=(?!\?))+"'
_PARAM = rf";[ \t]*({_TOKEN})=({_TOKEN}|{_QUOTED})"
_PARAMS = re.compile(_PARAM)
_PLAIN = {
    "content-type": re.compile(rf"{_TOKEN}/{_TOKEN}(?:{_PARAM})*"),
    "content-disposition": re.compile(rf"{_TOKEN}(?:{_PARAM})*"),
}
_LINESEP = re.compile(r"\n|\r")


class _MimeHeader(str):
    """A plainly written Content-Type or Content-Disposition, as its header object reads."""

    content_disposition: str | None
    defects: tuple[()] = ()


def _plain_mime_header(lname: str, value: str) -> _MimeHeader | None:
    pattern = _PLAIN.get(lname)
    if pattern is None or not pattern.fullmatch(value):
        return None
    head = value.split(";", 1)[0]
    params = _PARAMS.findall(value)
    if len({name.lower() for name, _ in params}) != len(params):
        return None  # repeated parameters are merged by the parser
    # The parser writes every parameter back as '; name="value"'.
    header = _MimeHeader(head + "".join(f'; {name}="{v.strip(chr(34))}"' for name, v in params))
    header.content_disposition = head.lower() if lname == "content-disposition" else None
    return header


@lru_cache(maxsize=4096)
def _fetch(name: str, value: str) -> object:
    # Header objects are immutable values of (name, value): sharing one between messages is safe.
    plain = _plain_mime_header(name.lower(), _LINESEP.sub("", value))
    if plain is not None:
        return plain
    return email.policy.default.header_fetch_parse(name, value)


class _CachedPolicy(EmailPolicy):
    """``email.policy.default`` with header objects cached by (name, raw value)."""

    def header_fetch_parse(self, name: str, value: str) -> object:
        if hasattr(value, "name"):
            return value
        return _fetch(name, value)


POLICY = _CachedPolicy()
