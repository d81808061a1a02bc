"""The composed reply: disclaimer, packets, threading, headers that cannot be injected, fallback."""

from __future__ import annotations

import email
import email.policy
import re
import shutil
import sys
import types
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest

from bot.compose import compose_reply, packet_resolver, reply_subject
from bot.config import parse_config
from bot.disclaimer import MissingDisclaimer, has_disclaimer, load_disclaimer, normalise, require_disclaimer
from bot.message import Action, LanguageResult, ParsedMessage, TopicHit, TopicResult, Triage
from bot.templates import TOPIC_IDS, TemplateLoader, sample_context

REPLIES = Path(__file__).resolve().parents[1] / "replies"
CONFIG = parse_config(
    {
        "organisation": {"name": "ALS Worldwide", "address": "support@example.org", "reply_name": "ALS Team"},
        "imap": {"host": "imap.example.org", "username": "support@example.org"},
        "smtp": {"host": "smtp.example.org"},
    },
    environ={},
)
ALL_PACKETS = [
    "general_information",
    "prescription_form",
    "participant_profile",
    "injection_information",
    "baseline_status_report",
]
PACKETS = {
    "general_info": ["general_information"],
    "obtaining": ["prescription_form"],
    "administration": ["injection_information"],
    "enrollment": ["participant_profile", "baseline_status_report"],
    "spanish_materials": ALL_PACKETS,
}


class StandInRules:
    """The two methods of bot.rules.Rules the composer uses."""

    def packets_for(self, topic_ids, language):  # type: ignore[no-untyped-def]
        return list(dict.fromkeys(p for t in topic_ids for p in PACKETS.get(t, [])))

    def topic(self, topic_id):  # type: ignore[no-untyped-def]
        return types.SimpleNamespace(template=f"topics/{topic_id}.txt.j2")


def fake_packets(language: str, packet_id: str) -> tuple[str, str, bytes]:
    return f"{packet_id}-{language}.pdf", f"{packet_id} ({language})", b"%PDF-1.4\n% fake\n%%EOF\n"


def inquiry(
    topics: list[str],
    language: str = "en",
    *,
    subject: str = "Question about B12",
    from_name: str = "Maria Lopez",
    reply_to: str | None = None,
    references: tuple[str, ...] = ("<root@mail.example.com>",),
    detected: str | None = None,
    fallback_used: bool = False,
) -> Triage:
    msg = ParsedMessage(
        message_id="<q1@mail.example.com>",
        synthetic_id=False,
        subject=subject,
        from_name=from_name,
        from_address="maria@example.com",
        reply_to=reply_to,
        references=references,
    )
    lang = LanguageResult(detected or language, language, "keywords", 0.9, fallback_used)
    hits = TopicResult(tuple(TopicHit(t, 10 - i) for i, t in enumerate(topics)))
    action = Action.ESCALATE if "urgent" in topics else Action.DRAFT
    return Triage(message=msg, action=action, language=lang, topics=hits)


def compose(triage: Triage, replies: Path = REPLIES, **kw):  # type: ignore[no-untyped-def]
    loader = TemplateLoader(replies, "en", ["en"])
    now = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
    return compose_reply(
        triage, config=CONFIG, rules=StandInRules(), loader=loader, packets=fake_packets, now=now, **kw
    )


def parse(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[return-value]


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("topic", TOPIC_IDS)
def test_reply_for_every_topic_and_language(topic: str, language: str) -> None:
    draft = compose(inquiry([topic], language))
    msg = parse(draft.raw)
    expected = [] if topic in ("urgent", "unsubscribe") else PACKETS.get(topic, [])

    assert has_disclaimer(draft.raw, REPLIES)
    wanted = normalise(load_disclaimer(REPLIES, language) or "")
    assert wanted in normalise(msg.get_body(("plain",)).get_content())
    assert wanted in normalise(draft.text)
    packet_language = "es" if topic == "spanish_materials" else language
    names = [f"{p}-{packet_language}.pdf" for p in expected]
    assert [a.get_filename() for a in msg.iter_attachments()] == names
    assert all(a.get_content_type() == "application/pdf" for a in msg.iter_attachments())
    assert list(draft.packets) == expected
    assert msg.get_content_type() == ("multipart/mixed" if expected else "multipart/alternative")

    assert msg["In-Reply-To"] == "<q1@mail.example.com>"
    assert msg["References"] == "<root@mail.example.com> <q1@mail.example.com>"
    assert msg["Subject"] == draft.subject == "Re: Question about B12"
    assert msg["Auto-Submitted"] == "auto-replied"
    assert msg["Content-Language"] == language == draft.language
    assert msg["Message-ID"] == draft.message_id != "<q1@mail.example.com>"
    assert re.fullmatch(r"<[^@<>]+@example\.org>", draft.message_id)
    assert msg["From"].addresses[0].addr_spec == "support@example.org"
    assert msg["From"].addresses[0].display_name == "ALS Team"
    assert msg["To"] == draft.to_address == "maria@example.com"
    assert msg["Date"] == "Wed, 25 Nov 2026 09:30:00 +0000"
    for part in (msg.get_body(("plain",)), msg.get_body(("html",))):
        assert part.get_content_charset() == "utf-8"
    assert b"\r\n" in draft.raw and draft.raw.isascii()


def test_spanish_reply_keeps_accents_and_greets_by_name() -> None:
    draft = compose(inquiry(["dosage"], "es", from_name="María"))
    body = parse(draft.raw).get_body(("plain",)).get_content()
    assert body.startswith("Hola, María:")
    assert "médico" in body and "Reciba un cordial saludo" in body


def test_neutral_greeting_without_a_name() -> None:
    assert compose(inquiry(["dosage"], from_name="")).text.startswith("Hello,")
    assert compose(inquiry(["dosage"], from_name="maria@example.com")).text.startswith("Hello,")
    assert compose(inquiry(["dosage"], "es", from_name="")).text.startswith("Hola:")


def test_sections_follow_priority_order_and_attachments_are_listed() -> None:
    draft = compose(inquiry(["obtaining", "general_info"]))
    assert draft.text.index("Hopewell") < draft.text.index("form of vitamin B12")
    assert draft.packets == ("prescription_form", "general_information")
    assert "prescription_form-en.pdf" in draft.text and "prescription_form-en.pdf" in draft.html


@pytest.mark.parametrize(
    ("original", "expected"),
    [
        ("RE: Dose", "Re: Dose"),
        ("Re: Re: Dose", "Re: Dose"),
        ("AW: Dosis", "Re: Dosis"),
        ("re[2]: Dose", "Re: Dose"),
        ("", "Re: Your message about methylcobalamin"),
        ("Fwd: Dose", "Re: Fwd: Dose"),
    ],
)
def test_reply_prefix_is_not_doubled(original: str, expected: str) -> None:
    assert reply_subject(original, "Re:", "Your message about methylcobalamin") == expected


def test_disclaimer_survives_templates_that_drop_it(tmp_path: Path) -> None:
    replies = tmp_path / "replies"
    shutil.copytree(REPLIES, replies)
    (replies / "en" / "reply.txt.j2").write_text(
        "{{ greeting }}\n{% for s in sections %}{{ s.text }}\n{% endfor %}"
    )
    (replies / "en" / "reply.html.j2").write_text("<html><body>{{ greeting }}</body></html>")
    for topic in (replies / "en" / "topics").iterdir():
        text = topic.read_text(encoding="utf-8")
        topic.write_text(re.sub(r"(?i).*(medical advice|discuss).*\n?", "", text), encoding="utf-8")
    draft = compose(inquiry(["dosage", "precautions"]), replies)
    assert has_disclaimer(draft.raw, replies)
    require_disclaimer(draft.raw, replies)
    assert "medical advice" in draft.text and "medical advice" in draft.html


def test_composer_passes_every_documented_name(tmp_path: Path) -> None:
    replies = tmp_path / "replies"
    shutil.copytree(REPLIES, replies)
    every = "".join(f"[{{{{ {name} }}}}]" for name in sample_context())
    (replies / "en" / "reply.txt.j2").write_text(every, encoding="utf-8")
    assert "[Dear Maria Lopez,]" in compose(inquiry(["dosage"]), replies).text


def test_require_disclaimer_refuses_a_message_without_it() -> None:
    msg = EmailMessage()
    msg.set_content("Dear Maria, take 25 mg.")
    msg.add_alternative("<p>Dear Maria, take 25 mg.</p>", subtype="html")
    msg["Content-Language"] = "en"  # after the content: set_content clears Content-* headers
    with pytest.raises(MissingDisclaimer, match="text part lacks"):
        require_disclaimer(msg.as_bytes(), REPLIES)

    good = compose(inquiry(["dosage"]))
    tampered = good.raw.replace(b"medical advice", b"medical tips")
    assert b"medical tips" in tampered and not has_disclaimer(tampered, REPLIES)
    no_language = good.raw.replace(b"Content-Language: en", b"X-Language: en")
    assert not has_disclaimer(no_language, REPLIES)
    assert not has_disclaimer(b"not a message at all", REPLIES)


def test_text_disclaimer_alone_is_not_enough() -> None:
    text = load_disclaimer(REPLIES, "en")
    msg = EmailMessage()
    msg.set_content(f"Hello\n\n{text}")
    msg.add_alternative("<p>Hello</p>", subtype="html")
    msg["Content-Language"] = "en"
    with pytest.raises(MissingDisclaimer, match="HTML"):
        require_disclaimer(msg.as_bytes(), REPLIES)


def test_no_header_injection_from_subject_name_or_reply_to() -> None:
    triage = inquiry(
        ["dosage"],
        subject="Help\r\nBcc: victim@x.example",
        from_name="Eve\r\nBcc: victim@x.example\nTo: other@x.example",
        reply_to="eve@example.com\r\nBcc: victim@x.example",
    )
    draft = compose(triage)
    msg = parse(draft.raw)
    assert msg.get_all("Bcc") is None
    assert len(msg.get_all("To")) == 1 and msg["To"] == "maria@example.com"
    assert "\n" not in msg["Subject"] and "\r" not in msg["Subject"]
    assert msg["Subject"] == "Re: Help Bcc: victim@x.example"
    assert not re.search(rb"^Bcc:", draft.raw, re.M | re.I)


@pytest.mark.parametrize("sep", ["\r\n", "\n", "\r", "\x85", "\u2028", "\u2029", "\x00", "\x0b", "\t"])
def test_no_line_separator_reaches_a_header(sep: str) -> None:
    triage = inquiry(
        ["dosage"],
        subject=f"Ayuda{sep}Bcc: victim@x.example{sep}{sep}body",
        from_name=f"Eve{sep}To: other@x.example",
        reply_to=f"eve@example.com{sep}Bcc: victim@x.example",
        references=(f"<a@x.example>{sep}Bcc: victim@x.example", "<b@x.example>"),
    )
    draft = compose(triage)
    head = draft.raw[: draft.raw.index(b"\r\n\r\n") + 2]
    assert b"\n" not in head.replace(b"\r\n", b"") and b"\r" not in head.replace(b"\r\n", b"")
    assert not re.search(rb"^(Bcc|To: other)", draft.raw, re.M | re.I)
    msg = parse(draft.raw)
    assert msg["Subject"] == draft.subject == "Re: Ayuda Bcc: victim@x.example body"
    assert msg["To"] == draft.to_address == "maria@example.com"
    assert msg["References"] == "<b@x.example> <q1@mail.example.com>"


def test_a_reply_name_with_a_line_break_stays_on_one_line() -> None:
    org = CONFIG.organisation.model_copy(update={"reply_name": "Team\r\nBcc: victim@x.example"})
    config = CONFIG.model_copy(update={"organisation": org})
    loader = TemplateLoader(REPLIES, "en", ["en"])
    now = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
    draft = compose_reply(
        inquiry(["dosage"]), config=config, rules=StandInRules(), loader=loader, packets=fake_packets, now=now
    )
    assert parse(draft.raw)["From"].addresses[0].display_name == "Team Bcc: victim@x.example"
    head = draft.raw[: draft.raw.index(b"\r\n\r\n")]  # (the signature in the body may keep its lines)
    assert not re.search(rb"^Bcc:", head, re.M | re.I)


def test_reply_to_is_preferred_and_our_own_address_never_used() -> None:
    assert (
        compose(inquiry(["dosage"], reply_to="Carer <carer@example.net>")).to_address == "carer@example.net"
    )
    assert compose(inquiry(["dosage"], reply_to="support@example.org")).to_address == "maria@example.com"


def test_pt_inquiry_gets_english_reply_with_a_note() -> None:
    draft = compose(inquiry(["dosage"], "pt"))
    assert draft.language == "en" and parse(draft.raw)["Content-Language"] == "en"
    assert "Reply written in English because no Portuguese templates exist (fallback)" in draft.notes
    assert has_disclaimer(draft.raw, REPLIES)
    # Triage already fell back: the note says so too.
    already = compose(inquiry(["dosage"], "en", detected="pt", fallback_used=True))
    assert any("no Portuguese templates" in n for n in already.notes)


def test_sender_name_is_escaped_in_html() -> None:
    draft = compose(inquiry(["dosage"], from_name="<script>alert(1)</script>"))
    html = parse(draft.raw).get_body(("html",)).get_content()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert draft.text.startswith("Dear <script>alert(1)</script>,")


def test_follow_up_does_not_attach_packets_again() -> None:
    draft = compose(inquiry(["obtaining", "enrollment"]), exclude_packets=frozenset({"prescription_form"}))
    assert draft.packets == ("participant_profile", "baseline_status_report")
    assert "Follow-up: packets already sent were not attached again (prescription_form)" in draft.notes
    assert "sent with our earlier message" in draft.text


def test_urgent_gets_only_the_holding_message() -> None:
    draft = compose(inquiry(["urgent", "obtaining"]))
    assert draft.packets == ()
    assert "emergency services now" in normalise(draft.text) and "Hopewell" not in draft.text
    assert any("staff must review" in n for n in draft.notes)


def test_spanish_materials_come_in_spanish_in_an_english_reply() -> None:
    draft = compose(inquiry(["spanish_materials"], "en"))
    names = [a.get_filename() for a in parse(draft.raw).iter_attachments()]
    assert names == [f"{p}-es.pdf" for p in ALL_PACKETS]


def test_references_are_capped_keeping_the_root() -> None:
    refs = tuple(f"<r{i}@x.example>" for i in range(40)) + ("not an id", "<bad\r\n@x>")
    msg = parse(compose(inquiry(["dosage"], references=refs)).raw)
    ids = msg["References"].split()
    assert len(ids) == 10 and ids[0] == "<r0@x.example>" and ids[-1] == "<q1@mail.example.com>"


def test_packet_resolver_wraps_bot_packets(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    fake = types.ModuleType("bot.packets")
    catalogue = types.SimpleNamespace(packet=lambda lang, pid: types.SimpleNamespace(title=f"T {lang} {pid}"))
    fake.load_catalogue = lambda replies_dir: catalogue  # type: ignore[attr-defined]

    def packet_file(replies_dir, out_dir, lang, pid, organisation, overrides):  # type: ignore[no-untyped-def]
        calls.append((replies_dir, out_dir, lang, pid, organisation, overrides))
        return f"{pid}.pdf", b"%PDF"

    fake.packet_file = packet_file  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "bot.packets", fake)
    # `from bot import packets` reads the package attribute once bot.packets was imported.
    import bot

    monkeypatch.setattr(bot, "packets", fake, raising=False)
    resolve = packet_resolver(CONFIG)
    assert resolve("es", "prescription_form") == ("prescription_form.pdf", "T es prescription_form", b"%PDF")
    assert calls == [
        (CONFIG.paths.replies, CONFIG.paths.packets, "es", "prescription_form", "ALS Worldwide", {})
    ]


def _fake_pipeline(monkeypatch: pytest.MonkeyPatch, triage: Triage, tmp_path: Path) -> None:
    rules_mod = types.ModuleType("bot.rules")
    rules_mod.load_rules = lambda path: StandInRules()  # type: ignore[attr-defined]
    triage_mod = types.ModuleType("bot.triage")
    triage_mod.triage_bytes = lambda raw, *, config, rules: triage  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "bot.rules", rules_mod)
    monkeypatch.setitem(sys.modules, "bot.triage", triage_mod)
    monkeypatch.setattr("bot.compose.packet_resolver", lambda config: fake_packets)
    monkeypatch.setattr("bot.commands.preview.load_config", lambda path: CONFIG)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "replies").symlink_to(REPLIES)


def test_preview_writes_the_exact_bytes_and_shows_them(monkeypatch, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    from bot.commands import preview

    _fake_pipeline(monkeypatch, inquiry(["obtaining"]), tmp_path)
    (tmp_path / "ask.eml").write_bytes(b"Subject: x\r\n\r\nhi\r\n")
    args = types.SimpleNamespace(file=str(tmp_path / "ask.eml"), out=None, rules=None, config=None)
    assert preview.run(args) == 0
    raw = (tmp_path / "ask.reply.eml").read_bytes()
    out = capsys.readouterr().out
    assert has_disclaimer(raw, REPLIES)
    assert "Subject: Re: Question about B12" in out and "[attachment] prescription_form-en.pdf" in out


def test_preview_writes_nothing_for_ignored_mail(monkeypatch, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    from bot.commands import preview

    ignored = Triage(
        message=inquiry(["dosage"]).message, action=Action.IGNORE, language=None, topics=TopicResult()
    )
    _fake_pipeline(monkeypatch, ignored, tmp_path)
    (tmp_path / "bounce.eml").write_bytes(b"Subject: x\r\n\r\nhi\r\n")
    args = types.SimpleNamespace(file=str(tmp_path / "bounce.eml"), out=None, rules=None, config=None)
    assert preview.run(args) == 0
    assert "ignore" in capsys.readouterr().out
    assert not (tmp_path / "bounce.reply.eml").exists()
