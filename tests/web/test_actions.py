"""Staff actions on an inquiry: edit, re-draft, packets, approve, send now, reject, answered personally."""

from __future__ import annotations

import email
import email.policy

import pytest
from sqlalchemy import select

from bot.disclaimer import has_disclaimer
from bot.store import AuditEntry, Inquiry, Reply
from bot.web.mailparts import read_reply
from tests.web.conftest import REPO, act, add_inquiry, inquiry_raw, post


def state_of(services, inquiry_id):
    with services.store.session() as s:
        inq = s.get(Inquiry, inquiry_id)
        reply = s.scalar(select(Reply).where(Reply.inquiry_id == inquiry_id).order_by(Reply.id.desc()))
        return inq.state, (reply.state if reply else None)


def audit_of(services, inquiry_id):
    with services.store.session() as s:
        return [
            (a.actor, a.action, a.detail)
            for a in s.scalars(
                select(AuditEntry).where(AuditEntry.inquiry_id == inquiry_id).order_by(AuditEntry.id)
            )
        ]


def latest(services, inquiry_id):
    with services.store.session() as s:
        reply = s.scalar(select(Reply).where(Reply.inquiry_id == inquiry_id).order_by(Reply.id.desc()))
        assert reply.raw  # loads the deferred bytes inside the session
        return reply


def test_edit_keeps_headers_attachments_and_disclaimer(staff, services):
    inquiry_id = add_inquiry(services)
    before = latest(services, inquiry_id)
    edited = "Dear Maria,\n\nPlease see the <b>leaflet</b> at https://example.org/leaflet.\n\nKind regards"
    resp = act(staff, inquiry_id, "edit", {"text": edited})
    assert resp.status_code == 302
    after = latest(services, inquiry_id)
    msg = email.message_from_bytes(after.raw, policy=email.policy.default)
    assert msg["Message-ID"] == before.message_id and after.message_id == before.message_id
    assert msg["In-Reply-To"] == "<q1@example.com>" and msg["Content-Language"] == "en"
    view = read_reply(after.raw)
    assert view.text.startswith(edited)
    assert "we do not give medical advice" in view.text  # dropped by the edit, added back
    assert "&lt;b&gt;leaflet&lt;/b&gt;" in view.html and "<b>leaflet</b>" not in view.html
    assert '<a href="https://example.org/leaflet">' in view.html
    assert [(a.filename, a.data) for a in view.attachments] == [("injection.pdf", b"%PDF-1.4 packet")]
    assert has_disclaimer(after.raw, REPO / "replies")
    assert after.text == view.text and after.html == view.html
    assert audit_of(services, inquiry_id)[-1][:2] == ("sam", "edit")
    assert audit_of(services, inquiry_id)[-1][2]["disclaimer_added"] is True
    page = staff.get(f"/inquiry/{inquiry_id}").get_data(as_text=True)
    assert "The disclaimer was added back at the end." in page
    assert "Please see the &lt;b&gt;leaflet&lt;/b&gt;" in page


def test_edit_that_keeps_the_disclaimer_does_not_double_it(staff, services):
    inquiry_id = add_inquiry(services)
    text = latest(services, inquiry_id).text.replace("The usual dose", "The dose")
    act(staff, inquiry_id, "edit", {"text": text.replace("\n", "\r\n")})
    after = latest(services, inquiry_id)
    assert after.text.count("we do not give medical advice") == 1
    assert "The dose is described" in after.text and "\r" not in after.text


def test_empty_edit_changes_nothing(staff, services):
    inquiry_id = add_inquiry(services)
    raw = latest(services, inquiry_id).raw
    act(staff, inquiry_id, "edit", {"text": "   "})
    assert latest(services, inquiry_id).raw == raw


def test_approve_moves_on_to_the_next_item(staff, services):
    first = add_inquiry(services)
    second = add_inquiry(services)
    resp = act(staff, first, "approve")
    assert resp.status_code == 302 and resp.headers["Location"] == f"/inquiry/{second}"
    assert state_of(services, first) == ("approved", "approved")
    assert latest(services, first).approved_by == "sam"
    assert audit_of(services, first)[-1][:2] == ("sam", "approve")
    # Approved: no more edits, no second approval.
    act(staff, first, "edit", {"text": "changed"})
    assert "changed" not in latest(services, first).text
    page = staff.get(f"/inquiry/{first}").get_data(as_text=True)
    assert "Approve and send now" not in page


def test_approve_refuses_a_reply_changed_since_the_page_was_read(app, staff, services, make_user):
    """Two people on one item: the second approval must not approve text its approver never saw."""
    from tests.web.conftest import csrf_from, login

    inquiry_id = add_inquiry(services)
    page = staff.get(f"/inquiry/{inquiry_id}").get_data(as_text=True)
    make_user("kim")
    other = app.test_client()
    login(other, "kim")
    act(other, inquiry_id, "edit", {"text": "Kim's new wording."})
    import re

    seen = re.search(r'name="seen" value="([^"]*)"', page).group(1)
    resp = staff.post(f"/inquiry/{inquiry_id}/approve", data={"csrf_token": csrf_from(page), "seen": seen})
    assert resp.headers["Location"] == f"/inquiry/{inquiry_id}"
    assert state_of(services, inquiry_id) == ("drafted", "draft")
    assert "changed by someone else" in staff.get(f"/inquiry/{inquiry_id}").get_data(as_text=True)
    assert act(staff, inquiry_id, "approve").status_code == 302  # after reading it again
    assert state_of(services, inquiry_id) == ("approved", "approved")


def test_approve_and_send_now_runs_the_outbox(staff, services, monkeypatch):
    inquiry_id = add_inquiry(services)
    calls = []

    def fake_send_once(svc, only=None):
        from bot.send import SendReport

        calls.append((svc, only))
        with svc.store.session() as s:
            reply = s.scalar(select(Reply).where(Reply.inquiry_id == inquiry_id))
            reply.state, reply.inquiry.state = "sent", "answered"
        return SendReport(sent=1)

    monkeypatch.setattr("bot.send.send_once", fake_send_once)
    resp = act(staff, inquiry_id, "approve", {"send_now": "1"})
    with services.store.session() as s:
        reply_id = s.scalar(select(Reply.id).where(Reply.inquiry_id == inquiry_id))
    assert calls == [(services, [reply_id])]  # only this reply: the worker sends the rest
    assert resp.status_code == 302
    assert state_of(services, inquiry_id) == ("answered", "sent")
    assert "the reply is approved and sent" in staff.get("/queue").get_data(as_text=True)


def test_approve_and_send_now_reports_a_failure(staff, services, monkeypatch):
    inquiry_id = add_inquiry(services)

    def broken(svc, only=None):
        raise ConnectionRefusedError("no SMTP")

    monkeypatch.setattr("bot.send.send_once", broken)
    resp = act(staff, inquiry_id, "approve", {"send_now": "1"})
    assert resp.headers["Location"] == f"/inquiry/{inquiry_id}"
    assert state_of(services, inquiry_id) == ("approved", "approved")
    assert "The bot will keep trying." in staff.get(f"/inquiry/{inquiry_id}").get_data(as_text=True)


def test_reject_with_reason(staff, services):
    inquiry_id = add_inquiry(services)
    act(staff, inquiry_id, "reject", {"reason": "asked us to stop writing"})
    assert state_of(services, inquiry_id) == ("rejected", "rejected")
    assert audit_of(services, inquiry_id)[-1] == ("sam", "reject", {"reason": "asked us to stop writing"})
    page = staff.get(f"/inquiry/{inquiry_id}").get_data(as_text=True)
    assert "rejected: “asked us to stop writing”" in page


def test_mark_answered_personally(staff, services):
    inquiry_id = add_inquiry(services, state="manual", reply=False)
    act(staff, inquiry_id, "answered", {"note": "called her"})
    assert state_of(services, inquiry_id) == ("answered_personally", None)
    assert [a[1] for a in audit_of(services, inquiry_id)] == ["reject", "answered_personally"]


def test_closing_twice_is_refused_in_plain_words(staff, services):
    inquiry_id = add_inquiry(services)
    act(staff, inquiry_id, "reject")
    resp = act(staff, inquiry_id, "reject")
    assert resp.headers["Location"] == f"/inquiry/{inquiry_id}"
    assert "Nothing was changed" in staff.get(f"/inquiry/{inquiry_id}").get_data(as_text=True)


def test_failed_reply_back_to_draft_then_approve(staff, services):
    inquiry_id = add_inquiry(services, state="approved", reply_state="failed")
    act(staff, inquiry_id, "back-to-draft")
    assert state_of(services, inquiry_id) == ("drafted", "draft")
    act(staff, inquiry_id, "approve")
    assert state_of(services, inquiry_id) == ("approved", "approved")
    assert [a[1] for a in audit_of(services, inquiry_id)] == ["back_to_draft", "approve"]


def test_back_to_draft_only_for_failed_replies(staff, services):
    inquiry_id = add_inquiry(services)
    assert act(staff, inquiry_id, "back-to-draft").status_code == 409


def test_actions_on_unknown_inquiry(staff):
    resp = post(staff, "/inquiry/424242/approve")
    assert resp.status_code == 302
    assert post(staff, "/inquiry/424242/edit", {"text": "x"}).headers["Location"] == "/queue"


@pytest.fixture
def real_inquiry(services):
    """An inquiry whose stored bytes the real parser and composer can work on."""
    raw = inquiry_raw(body="Hello, what dose of methylcobalamin should my husband take, and how often?")
    return add_inquiry(services, raw=raw)


def test_redraft_with_other_topics(staff, services, real_inquiry):
    resp = act(staff, real_inquiry, "redraft", {"topics": ["obtaining"], "language": "en"})
    assert resp.status_code == 302
    page = staff.get(f"/inquiry/{real_inquiry}").get_data(as_text=True)
    assert "The reply was drafted again" in page, page
    reply = latest(services, real_inquiry)
    assert reply.packets == ["prescription_form"] and reply.state == "draft"
    assert has_disclaimer(reply.raw, REPO / "replies")
    with services.store.session() as s:
        assert s.get(Inquiry, real_inquiry).topics == ["obtaining"]
    actor, action, detail = audit_of(services, real_inquiry)[-1]
    assert (actor, action) == ("sam", "redraft")
    assert detail["topics_before"] == ["dosage"] and detail["topics"] == ["obtaining"]


def test_redraft_in_spanish(staff, services, real_inquiry):
    act(staff, real_inquiry, "redraft", {"topics": ["dosage"], "language": "es"})
    reply = latest(services, real_inquiry)
    assert reply.language == "es"
    msg = email.message_from_bytes(reply.raw, policy=email.policy.default)
    assert msg["Content-Language"] == "es"
    assert has_disclaimer(reply.raw, REPO / "replies")


def test_redraft_needs_a_topic(staff, services, real_inquiry):
    raw = latest(services, real_inquiry).raw
    act(staff, real_inquiry, "redraft", {"language": "en"})
    assert latest(services, real_inquiry).raw == raw
    assert "Choose at least one topic" in staff.get(f"/inquiry/{real_inquiry}").get_data(as_text=True)


def test_remove_a_packet(staff, services, real_inquiry):
    act(staff, real_inquiry, "redraft", {"topics": ["dosage", "obtaining"], "language": "en"})
    assert set(latest(services, real_inquiry).packets) == {"injection_information", "prescription_form"}
    post(
        staff,
        f"/inquiry/{real_inquiry}/packets",
        {"offered": ["injection_information", "prescription_form"], "packets": ["prescription_form"]},
    )
    reply = latest(services, real_inquiry)
    assert reply.packets == ["prescription_form"]
    assert len(read_reply(reply.raw).attachments) == 1
    assert audit_of(services, real_inquiry)[-1][1] == "packets"


def test_add_a_packet_no_topic_asked_for(staff, services, real_inquiry):
    act(staff, real_inquiry, "redraft", {"topics": ["dosage"], "language": "en"})
    assert latest(services, real_inquiry).packets == ["injection_information"]
    page = staff.get(f"/inquiry/{real_inquiry}").get_data(as_text=True)
    assert 'value="participant_profile"' in page  # every packet is offered, not only the attached ones
    post(
        staff,
        f"/inquiry/{real_inquiry}/packets",
        {"offered": ["injection_information"], "packets": ["injection_information", "participant_profile"]},
    )
    reply = latest(services, real_inquiry)
    assert reply.packets == ["injection_information", "participant_profile"]
    assert len(read_reply(reply.raw).attachments) == 2


def test_manual_inquiry_gets_a_draft_when_staff_choose_topics(staff, services):
    raw = inquiry_raw(body="Hi, I have a question about getting it to Spain.")
    inquiry_id = add_inquiry(services, raw=raw, state="manual", reply=False, topics=[], action="manual")
    page = staff.get(f"/inquiry/{inquiry_id}").get_data(as_text=True)
    assert "Let the bot draft a reply" in page
    act(staff, inquiry_id, "redraft", {"topics": ["obtaining"], "language": "en"})
    assert state_of(services, inquiry_id) == ("drafted", "draft")
    act(staff, inquiry_id, "approve")
    assert state_of(services, inquiry_id) == ("approved", "approved")
