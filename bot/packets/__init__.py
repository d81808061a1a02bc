"""The information packets: sources in ``replies/<lang>/packets/``, built into PDFs.

Five packets (:data:`PACKET_IDS`) exist in every language that has a
``packets`` folder. Sources are a small Markdown-like markup
(:mod:`bot.packets.markup`, also described for admins in
``replies/en/packets/README.md``); :func:`build_packets` renders them all
(``python run.py packets build``), and :func:`packet_file` gives the bytes to
attach to a reply, preferring the organisation's own official file when one
is configured in ``paths.packet_overrides``.
"""

from bot.packets.build import build_packets, packet_file
from bot.packets.catalogue import PACKET_IDS, Catalogue, Common, load_catalogue
from bot.packets.model import Field, PacketError, PacketSource

__all__ = [
    "PACKET_IDS",
    "Catalogue",
    "Common",
    "Field",
    "PacketError",
    "PacketSource",
    "build_packets",
    "load_catalogue",
    "packet_file",
    "render_packet",
]


def __getattr__(name: str) -> object:
    # The renderer (reportlab) is imported only by whoever renders: a process that attaches
    # packets already built never needs it (see bot.packets.build.organisation_note).
    if name == "render_packet":
        from bot.packets.render import render_packet

        return render_packet
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
