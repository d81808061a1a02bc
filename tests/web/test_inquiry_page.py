"""The inquiry page: the message shown safely, the reasons, the reply as it will be sent, the log."""

from __future__ import annotations

from sqlalchemy import select

from bot.queue import audit
from bot.store import Inquiry, Reply
from bot.web.sanitize import sanitize_html
from tests.web.conftest import add_inquiry, inquiry_raw

HOSTILE_HTML = (
    "<p>Hello, what <b>dose</b> is right?</p>"
    "<script>window.__pwned = 1; alert('x')</script>"
    '<img src=x onerror="window.__pwned = 1">'
    '<img src="https://tracker.example/pixel.gif" alt="tracking pixel">'
    '<a href="javascript:window.__pwned=1">click</a>'
    '<div style="background:url(https://tracker.example/bg.png)" onmouseover="window.__pwned=1">styled</div>'
    '<iframe src="https://tracker.example/frame"></iframe>'
    "<svg><script>window.__pwned=1</script></svg>"
)


def test_hostile_html_is_shown_inert(staff, services):
    raw = inquiry_raw(body="Hello, what dose is right?", html=HOSTILE_HTML)
    inquiry_id = add_inquiry(services, raw=raw)
    html = staff.get(f"/inquiry/{inquiry_id}").get_data(as_text=True)
    assert "Hello, what <b>dose</b> is right?" in html  # the formatting is kept
    assert "__pwned" not in html
    assert "onerror" not in html and "onmouseover" not in html
    assert "<script>window" not in html and '<iframe src="https' not in html
    assert "tracker.example" not in html
    assert "javascript:" not in html
    assert 'alt="tracking pixel"' in html  # the picture's description stays, the picture does not load


def test_sanitizer_keeps_inline_images_and_plain_links():
    out = sanitize_html(
        '<a href="https://example.org/info">info</a><img src="data:image/png;base64,iVBORw0KGgo=">'
        '<img src="data:image/svg+xml;base64,PHN2Zz4=">'
        '<a href="/queue">relative</a><form action="https://x"><input name="q"></form>'
    )
    assert 'href="https://example.org/info"' in out and 'rel="noopener noreferrer nofollow"' in out
    assert 'src="data:image/png;base64,iVBORw0KGgo="' in out
    assert "svg+xml" not in out and 'href="/queue"' not in out
    assert "<form" not in out and "<input" not in out


def test_plain_text_is_escaped(staff, services):
    raw = inquiry_raw(body="Is <script>alert(1)</script> & B12 safe?")
    inquiry_id = add_inquiry(services, raw=raw)
    html = staff.get(f"/inquiry/{inquiry_id}").get_data(as_text=True)
    assert "Is &lt;script&gt;alert(1)&lt;/script&gt; &amp; B12 safe?" in html


def test_quoted_part_is_folded_away(staff, services):
    body = (
        "Thank you, and how long should he take it?\n\nOn Mon, Support wrote:\n> The dose is 50 mg.\n> Best\n"
    )
    inquiry_id = add_inquiry(services, raw=inquiry_raw(body=body))
    html = staff.get(f"/inquiry/{inquiry_id}").get_data(as_text=True)
    assert "Earlier messages quoted in this email" in html
    details = html.split("Earlier messages quoted in this email", 1)[1]
    assert "The dose is 50 mg." in details
    before = html.split("Earlier messages quoted in this email", 1)[0]
    assert "how long should he take it?" in before and "The dose is 50 mg." not in before


def test_reasons_language_topics_and_reply_are_shown(staff, services):
    inquiry_id = add_inquiry(services, topics=["dosage", "obtaining"])
    html = staff.get(f"/inquiry/{inquiry_id}").get_data(as_text=True)
    assert "English (0.99)" in html and "matched &#39;dose&#39;" in html
    assert ">dosage<" in html and ">obtaining<" in html
    assert "The usual dose is described in the leaflet." in html
    assert '<pre class="reply-text" id="reply-text">' in html
    assert "we do not give medical advice" in html  # the disclaimer, as it will be sent
    assert "injection.pdf" in html
    assert f'src="/inquiry/{inquiry_id}/reply.html"' in html and "sandbox" in html
    assert "Approve and send now" in html


def test_reply_html_preview_is_locked_down(staff, services):
    inquiry_id = add_inquiry(services)
    resp = staff.get(f"/inquiry/{inquiry_id}/reply.html")
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    assert "The usual dose" in resp.get_data(as_text=True)
    csp = resp.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script" not in csp
    assert resp.headers["X-Frame-Options"] == "SAMEORIGIN"


def test_reply_attachment_downloads(staff, services):
    inquiry_id = add_inquiry(services)
    resp = staff.get(f"/inquiry/{inquiry_id}/reply/attachment/0")
    assert resp.status_code == 200
    assert resp.data == b"%PDF-1.4 packet"
    assert resp.headers["Content-Disposition"].startswith('attachment; filename="injection.pdf"')
    assert resp.mimetype == "application/octet-stream"
    assert staff.get(f"/inquiry/{inquiry_id}/reply/attachment/5").status_code == 404


def test_inbound_attachment_downloads_never_inline(staff, services):
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "maria@example.com", "support@example.org", "Report"
    msg["Message-ID"] = "<att1@example.com>"
    msg.set_content("Here is his report.")
    msg.add_attachment(b"<script>x</script>", maintype="text", subtype="html", filename="report.html")
    inquiry_id = add_inquiry(services, raw=msg.as_bytes())
    html = staff.get(f"/inquiry/{inquiry_id}").get_data(as_text=True)
    assert "report.html" in html
    resp = staff.get(f"/inquiry/{inquiry_id}/attachment/0")
    assert resp.mimetype == "application/octet-stream"
    assert resp.headers["Content-Disposition"].startswith("attachment;")


def test_earlier_messages_from_the_same_sender(staff, services):
    first = add_inquiry(services, state="answered", subject="My first question")
    add_inquiry(services, from_address="someone.else@example.com", subject="Not hers")
    second = add_inquiry(services)
    html = staff.get(f"/inquiry/{second}").get_data(as_text=True)
    assert "Earlier messages from this sender" in html
    assert f'href="/inquiry/{first}"' in html and "My first question" in html
    assert "Not hers" not in html


def test_audit_log_is_shown(staff, services):
    inquiry_id = add_inquiry(services)
    with services.store.session() as s:
        audit(s, "ada", s.get(Inquiry, inquiry_id), "reject", reason="spam")
    html = staff.get(f"/inquiry/{inquiry_id}").get_data(as_text=True)
    assert "<strong>ada</strong> rejected: “spam”" in html


def test_send_error_is_shown_with_a_way_back(staff, services):
    inquiry_id = add_inquiry(services, state="approved", reply_state="failed")
    with services.store.session() as s:
        s.scalar(select(Reply).where(Reply.inquiry_id == inquiry_id)).last_error = "550 no such mailbox"
    html = staff.get(f"/inquiry/{inquiry_id}").get_data(as_text=True)
    assert "The reply could not be sent." in html and "550 no such mailbox" in html
    assert "Put the reply back to draft" in html


def test_quarantined_message_is_still_shown(staff, services):
    inquiry_id = add_inquiry(
        services,
        state="quarantined",
        reply=False,
        raw=b"\xff\xfe not really an email \x00",
        error_stage="parse",
        error="ParseError: no headers",
    )
    html = staff.get(f"/inquiry/{inquiry_id}").get_data(as_text=True)
    assert "The bot could not process this message" in html and "no headers" in html
    assert "not really an email" in html


def test_unknown_inquiry_is_404(staff):
    resp = staff.get("/inquiry/999999")
    assert resp.status_code == 404
    assert "There is no inquiry with this number." in resp.get_data(as_text=True)


def test_next_and_previous_follow_queue_order(staff, services):
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    old = add_inquiry(services, received_at=now - timedelta(days=2))
    urgent = add_inquiry(services, state="escalated", urgent=True, received_at=now - timedelta(hours=1))
    new = add_inquiry(services, received_at=now - timedelta(days=1))
    add_inquiry(services, state="answered", received_at=now - timedelta(days=1, hours=12))
    html = staff.get(f"/inquiry/{old}").get_data(as_text=True)
    assert f'id="nav-prev" rel="prev" href="/inquiry/{urgent}"' in html
    assert f'id="nav-next" rel="next" href="/inquiry/{new}"' in html
    html = staff.get(f"/inquiry/{urgent}").get_data(as_text=True)
    assert 'id="nav-prev"' not in html and f'href="/inquiry/{old}"' in html
