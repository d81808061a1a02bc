"""Delivery-status, read-receipt and abuse reports (RFC 3462/3464/8098/5965), and Exchange NDRs."""

from __future__ import annotations

import re

from bot.message import ParsedMessage
from bot.screening import Rule, shown

_REPORT_PARTS = frozenset(
    {"message/delivery-status", "message/global-delivery-status", "message/disposition-notification",
     "message/global-disposition-notification", "message/feedback-report"}
)  # fmt: skip
_REPORT_TYPE = re.compile(r"report-type\s*=\s*\"?([\w.-]+)", re.IGNORECASE)


def _check(msg: ParsedMessage) -> str | None:
    if msg.content_type == "multipart/report":
        kind = _REPORT_TYPE.search(msg.header("Content-Type") or "")
        return f"multipart/report ({shown(kind.group(1))})" if kind else "multipart/report"
    for attachment in msg.attachments:
        if attachment.content_type in _REPORT_PARTS:
            return f"a {attachment.content_type} part"
    if msg.header("X-MS-Exchange-Message-Is-Ndr") is not None:
        return "X-MS-Exchange-Message-Is-Ndr header present"
    return None


RULE = Rule(
    "delivery-report",
    "A multipart/report or a delivery-status, disposition or feedback part: a bounce or receipt.",
    _check,
)
