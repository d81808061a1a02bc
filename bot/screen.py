"""Screen: is this inbound message from a machine (and so never answered)?

The one public entry is :func:`screen`. Every rule runs, in the order of
:func:`rule_order`, and each one that fires adds a Reason; the message is
ignored when any rule that ``ignores`` fired. Rules only read the parsed
message: the per-sender daily cap and the grace period need the database
and live with the ingest stage.

A false ignore means a patient never gets an answer, so every rule here is
about the *sender* being a program (headers, report parts, machine
senders); the two subject rules are fallbacks and the bounce one also
needs a mail-system sender.
"""

from __future__ import annotations

from functools import lru_cache
from operator import itemgetter

from bot.message import ParsedMessage, Reason, ScreenResult
from bot.screening import (
    Rule,
    auto_submitted,
    autoreply_headers,
    bounce_subject,
    complaint_report,
    delivery_report,
    failed_recipients,
    forwarded_bounce,
    list_headers,
    machine_sender,
    null_return_path,
    out_of_office,
    own_address,
    precedence,
    spam_flag,
)

__all__ = ["rule_order", "screen"]

STAGE = "screen"


@lru_cache(maxsize=8)
def rule_order(own_addresses: frozenset[str]) -> tuple[Rule, ...]:
    """The rules in the order they run (and their reasons are listed in); made once per set of addresses."""
    return (
        own_address.rule(own_addresses),
        auto_submitted.RULE,
        precedence.RULE,
        list_headers.RULE,
        autoreply_headers.RULE,
        failed_recipients.RULE,
        delivery_report.RULE,
        null_return_path.RULE,
        machine_sender.RULE,
        out_of_office.RULE,
        bounce_subject.RULE,
        forwarded_bounce.RULE,
        complaint_report.RULE,
        spam_flag.RULE,
    )


def screen(msg: ParsedMessage, own_addresses: frozenset[str]) -> ScreenResult:
    """The screening verdict for ``msg``: ignore it when a machine sent it.

    ``own_addresses`` are ours, lower-cased (``Config.own_addresses()``).
    Reasons are ``Reason("screen", rule name, detail)`` for every rule that
    fired, including rules that only note (``X-Spam-Flag``).
    """
    reasons: list[Reason] = []
    ignore = False
    # The header names lower-cased once, for every rule that reads only headers (msg.header_names()).
    names = frozenset(map(str.lower, map(itemgetter(0), msg.headers)))
    for rule in rule_order(frozenset(own_addresses)):  # a frozenset already is itself, not a copy
        # Rule.may_fire, its common case first: most inquiries have none of the headers a rule reads.
        if rule.headers is not None and rule.headers.isdisjoint(names) and not rule.may_fire(names):
            continue
        detail = rule.check(msg)
        if detail:
            reasons.append(Reason(STAGE, rule.name, detail))
            ignore = ignore or rule.ignores
    return ScreenResult(ignore=ignore, reasons=tuple(reasons))
