"""Reading and changing the stored mail bytes for the web pages.

* :func:`read_inbound` turns an inquiry's raw bytes into a ``ParsedMessage``
  with ``bot.parse.parse_message``; when that fails (a quarantined message)
  a plain standard-library reading is shown instead, so staff always see
  something.
* :func:`read_reply` gives a drafted reply's parts exactly as they will be
  sent: text, HTML, headers and attachments.
* :func:`edit_reply` puts an edited text into a drafted reply: the text part
  is replaced, the HTML part is rebuilt from the text (escaped), the
  disclaimer is appended again if the edit dropped it, and every header
  (Message-ID included) and attachment is kept.
"""

from __future__ import annotations

import hashlib
import html as htmllib
import logging
import re
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from pathlib import Path

import nh3

from bot.disclaimer import append_disclaimer, load_disclaimer, normalise
from bot.message import Attachment, ParsedMessage

log = logging.getLogger(__name__)


def _content(part: Message) -> str:
    """A text part's content; an unknown charset is decoded leniently rather than refused."""
    try:
        text = part.get_content()  # type: ignore[attr-defined]
    except (LookupError, UnicodeError, KeyError):
        payload = part.get_payload(decode=True) or b""
        text = payload.decode("utf-8", errors="replace")
    return text.replace("\r\n", "\n")


def _parse(raw: bytes) -> EmailMessage:
    return BytesParser(policy=policy.default).parsebytes(raw)  # type: ignore[return-value]


def _attachments(msg: EmailMessage) -> tuple[Attachment, ...]:
    found = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        filename = part.get_filename()
        if filename or part.get_content_disposition() == "attachment":
            data = part.get_payload(decode=True) or b""
            found.append(Attachment(filename or "attachment", part.get_content_type(), data))
    return tuple(found)


def html_to_text(html: str) -> str:
    """Readable text from HTML (tags dropped, entities decoded), for a fallback view."""
    html = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</tr>|</li>", "\n", html)
    return htmllib.unescape(nh3.clean(html, tags=set())).strip()


def basic_parse(raw: bytes) -> ParsedMessage:
    """A lenient reading with the standard library only, for mail the real parser refused."""
    msg = _parse(raw)
    plain = msg.get_body(preferencelist=("plain",))
    rich = msg.get_body(preferencelist=("html",))
    html = _content(rich) if rich is not None else None
    text = _content(plain) if plain is not None else html_to_text(html or "")
    sender = msg.get("From")
    addrs = getattr(sender, "addresses", ()) if sender is not None else ()
    return ParsedMessage(
        message_id=str(msg.get("Message-ID", "")).strip(),
        synthetic_id=False,
        subject=str(msg.get("Subject", "")),
        from_name=addrs[0].display_name if addrs else "",
        from_address=addrs[0].addr_spec if addrs else "",
        text=text,
        html=html,
        new_text=text,
        attachments=_attachments(msg),
    )


def read_inbound(raw: bytes) -> tuple[ParsedMessage, str | None]:
    """The parsed inquiry and, when the real parser failed, a note saying so."""
    try:
        from bot.parse import parse_message

        return parse_message(raw), None
    except Exception as exc:  # noqa: BLE001 - staff must still see the message
        log.info("inbound shown with the fallback reader: %s", type(exc).__name__)
        try:
            return basic_parse(raw), "This message could not be read fully; a simpler view is shown."
        except Exception:  # noqa: BLE001
            text = raw.decode("utf-8", errors="replace")
            plain = ParsedMessage("", False, "", "", "", text=text, new_text=text)
            return plain, "This message could not be read; its raw text is shown."


@dataclass(frozen=True)
class ReplyView:
    """A drafted reply as the recipient will get it."""

    headers: tuple[tuple[str, str], ...]
    text: str
    html: str | None
    attachments: tuple[Attachment, ...]


SHOWN_HEADERS = ("From", "To", "Cc", "Subject", "In-Reply-To", "Message-ID")


def read_reply(raw: bytes) -> ReplyView:
    """The parts of a reply's raw bytes, for showing and for attachment downloads."""
    msg = _parse(raw)
    plain = msg.get_body(preferencelist=("plain",))
    rich = msg.get_body(preferencelist=("html",))
    headers = tuple((h, str(msg[h])) for h in SHOWN_HEADERS if msg[h] is not None)
    return ReplyView(
        headers=headers,
        text=_content(plain) if plain is not None else "",
        html=_content(rich) if rich is not None else None,
        attachments=_attachments(msg),
    )


def fingerprint(raw: bytes | None) -> str:
    """A short hash of a reply's bytes, so a form can say which version of the reply it was made from."""
    return hashlib.sha256(raw or b"").hexdigest()[:20]


_URL = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]")


def text_to_html(text: str, language: str = "en") -> str:
    """A simple HTML version of ``text``: escaped, paragraphs kept, web addresses made links."""
    paragraphs = []
    for block in re.split(r"\n\s*\n", text.strip()):
        escaped = htmllib.escape(block)
        linked = _URL.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', escaped)
        paragraphs.append("<p>" + linked.replace("\n", "<br>\n") + "</p>")
    body = "\n".join(paragraphs)
    return (
        f'<!DOCTYPE html>\n<html lang="{htmllib.escape(language)}"><head><meta charset="utf-8"></head>'
        f'<body style="font-family: Arial, Helvetica, sans-serif; font-size: 16px; line-height: 1.5;">'
        f"\n{body}\n</body></html>\n"
    )


def replace_reply_parts(raw: bytes, new_text: str, html: str) -> bytes:
    """``raw`` with its text part replaced by ``new_text`` and its HTML part by ``html``.

    Headers (Message-ID, In-Reply-To, References, Content-Language ...) and
    attachments are kept as they are. Lines end the way the original's did.
    """
    msg = _parse(raw)
    plain = msg.get_body(preferencelist=("plain",))
    rich = msg.get_body(preferencelist=("html",))
    if plain is None:
        raise ValueError("the reply has no text part to replace")
    # set_content drops every Content-* header of the part; on a one-part message
    # that part is the message, and the disclaimer check needs its Content-Language.
    language = msg["Content-Language"]
    plain.set_content(new_text, subtype="plain", charset="utf-8", cte="quoted-printable")
    if rich is not None:
        rich.set_content(html, subtype="html", charset="utf-8", cte="quoted-printable")
    if language is not None and msg["Content-Language"] is None:
        msg["Content-Language"] = language
    out_policy = policy.SMTP if b"\r\n" in raw[:2000] else policy.default
    return msg.as_bytes(policy=out_policy)


def edit_reply(raw: bytes, text: str, language: str, replies_dir: Path) -> tuple[bytes, str, str, bool]:
    """A drafted reply with staff's ``text``: returns (raw, text, html, disclaimer_added).

    The disclaimer of ``language`` must stay in every reply: when the edited
    text no longer holds it (spacing and line breaks aside), it is appended
    again the way the composer appends it, to both parts.
    """
    text = text.replace("\r\n", "\n").rstrip() + "\n"
    html = text_to_html(text, language)
    disclaimer = load_disclaimer(replies_dir, language)
    added = bool(disclaimer) and normalise(disclaimer or "") not in normalise(text)
    if added:
        text, html = append_disclaimer(text, html, disclaimer or "", language)
    return replace_reply_parts(raw, text, html), text, html, added
