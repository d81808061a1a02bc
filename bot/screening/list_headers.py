"""Mailing-list mail (RFC 2369/2919 ``List-*`` headers): never a question to us."""

from __future__ import annotations

from bot.message import ParsedMessage
from bot.screening import Rule

# ezmlm, fml and older list managers mark their mail with these instead.
_OTHER = frozenset({"mailing-list", "x-mailing-list", "x-mlserver", "x-ml-name", "x-mailman-version"})


def _check(msg: ParsedMessage) -> str | None:
    names = []
    for name, _ in msg.headers:
        if (name.lower().startswith("list-") or name.lower() in _OTHER) and name not in names:
            names.append(name)
    # Only the names: list headers carry addresses.
    return f"list headers: {', '.join(names[:4])}" if names else None


RULE = Rule(
    "list-headers",
    "List-Id, List-Unsubscribe or another List-* header: mailing-list mail.",
    _check,
    headers=_OTHER,
    header_prefixes=("list-",),
)
