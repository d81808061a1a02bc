"""Showing inbound HTML mail to staff without letting it act.

Contract of :func:`sanitize_html`: the result has no scripts, no event
handlers, no ``style`` (so no CSS ``url()``), no forms or frames, and loads
nothing from outside: an image keeps its ``src`` only when the picture is
inside the message itself (``data:image/...``), and links keep only
``http``, ``https``, ``mailto`` and ``tel`` targets, opening in a new tab
without a referrer. The page's Content-Security-Policy is a second wall
behind this one.
"""

from __future__ import annotations

import re

import nh3

# Image maps could point outside without an <a>; nothing else in the defaults can.
_TAGS = set(nh3.ALLOWED_TAGS) - {"area", "map"}
_ATTRIBUTES = {
    **{tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()},
    "*": {"title", "lang", "dir"},
    "td": {"colspan", "rowspan", "align", "valign"},
    "th": {"colspan", "rowspan", "align", "valign", "scope"},
    "table": {"summary"},
}
_LINK_SCHEMES = ("http:", "https:", "mailto:", "tel:")
# Raster pictures only: an SVG could carry scripts of its own.
_INLINE_IMAGE = re.compile(r"^data:image/(png|gif|jpeg|webp);base64,[A-Za-z0-9+/=\s]+$", re.IGNORECASE)
_URL_ATTRS = {"href", "src", "cite", "longdesc", "srcset", "background", "poster", "data"}


def _filter(tag: str, attr: str, value: str) -> str | None:
    """Keep an attribute's value, or drop it (None) when it could reach outside."""
    if attr not in _URL_ATTRS:
        return value
    v = value.strip()
    if tag == "img" and attr == "src":
        return v if _INLINE_IMAGE.match(v) else None
    if tag == "a" and attr == "href":
        return v if v.lower().startswith(_LINK_SCHEMES) else None
    return None  # cite=, srcset= ... : nothing staff need, and each could fetch


def sanitize_html(html: str) -> str:
    """``html`` made safe to embed in a staff page (see the module docstring)."""
    return nh3.clean(
        html,
        tags=_TAGS,
        clean_content_tags={"script", "style", "title", "noscript", "template"},
        attributes=_ATTRIBUTES,
        attribute_filter=_filter,
        strip_comments=True,
        link_rel="noopener noreferrer nofollow",
        url_schemes={"http", "https", "mailto", "tel", "data"},
        set_tag_attribute_values={"a": {"target": "_blank"}},
    )
