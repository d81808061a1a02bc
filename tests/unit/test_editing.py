"""bot.editing and the dry run: checks, atomic saves with history, rollback, hand edits, what would change.

Every test works on temp copies of rules.yaml and replies/: the repository's
files are never written.
"""

from __future__ import annotations

import argparse
import json
import shutil
import stat
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select

from bot import editing
from bot.commands.rules import run_check
from bot.config import parse_config
from bot.match import match_topics
from bot.parse import parse_message
from bot.rules import parse_rules
from bot.services import LiveRules
from bot.store import AuditEntry, Inquiry, Store
from bot.store.versions import ConfigVersion, write_atomically
from bot.triage import TriageContext
from bot.web.dryrun import dry_run_corpus, dry_run_inquiries

ROOT = Path(__file__).resolve().parents[2]
WORD = "jeringuilla"  # matches no topic in the repository's rules
BROKEN = "version: 1\ntopics:\n  - id: dosage\n    title: Dose: how much\n    priority: 1\n"


def with_word(text: str) -> str:
    """The rules with WORD added to the Spanish keywords of administration."""
    assert '"cianocobalamina",' in text
    return text.replace('"cianocobalamina",', f'"cianocobalamina", "{WORD}",', 1)


def spanish(subject: str = "Una pregunta", n: int = 1) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "Ana Ruiz <ana@example.es>", "support@example.org", subject
    msg["Message-ID"] = f"<j{n}@example.es>"
    msg.set_content(
        f"Hola, mi padre tiene ELA. Tenemos miedo con la {WORD}: nos da mucha inseguridad hacerlo en casa."
    )
    return msg.as_bytes()


@pytest.fixture
def config(tmp_path: Path):
    shutil.copy(ROOT / "rules.yaml", tmp_path / "rules.yaml")
    shutil.copytree(ROOT / "replies", tmp_path / "replies", ignore=shutil.ignore_patterns("packets"))
    return parse_config(
        {
            "organisation": {"name": "ALS Worldwide", "address": "support@example.org", "reply_name": "Team"},
            "mailbox": {"kind": "maildir", "maildir": str(tmp_path / "maildir")},
            "smtp": {"host": "127.0.0.1", "port": 1, "security": "none"},
            "paths": {"rules": str(tmp_path / "rules.yaml"), "replies": str(tmp_path / "replies")},
        },
        environ={},
    )


@pytest.fixture
def rules(config) -> editing.Target:
    return editing.rules_target(config)


def check(target: editing.Target) -> editing.Checker:
    return lambda text: editing.problems(target, text)


def rows(store: Store) -> list[ConfigVersion]:
    with store.session() as s:
        return list(s.scalars(select(ConfigVersion).order_by(ConfigVersion.id)))


def test_save_writes_the_file_and_keeps_the_old_one_as_a_version(store, rules, tmp_path):
    original = rules.path.read_text(encoding="utf-8")
    new = with_word(original)
    version = editing.save(
        store, rules, new, "ada", check=check(rules), note="syringe", history_dir=tmp_path / "history"
    )
    assert rules.path.read_text(encoding="utf-8") == new
    first, second = rows(store)
    assert (first.saved_by, first.content) == (editing.OUTSIDE, original)  # the file before the first save
    assert (second.id, second.saved_by, second.note, second.content) == (version.id, "ada", "syringe", new)
    assert second.sha256 == editing.sha256(new)
    with store.session() as s:
        entry = s.scalars(select(AuditEntry)).one()
    assert (entry.actor, entry.action, entry.detail["path"]) == ("ada", "rules_saved", "rules.yaml")
    assert entry.detail["sha256"] == second.sha256
    copies = sorted((tmp_path / "history" / "rules.yaml").iterdir())
    assert [p.read_text(encoding="utf-8") for p in copies] == [original, new]
    assert copies[1].name.endswith(f"-v{second.id}-ada.yaml")
    # Saving the same text again writes nothing and records nothing.
    assert editing.save(store, rules, new, "ada", check=check(rules)) is None
    assert len(rows(store)) == 2


def test_invalid_rules_are_refused_with_their_line_and_the_old_file_stays(store, rules):
    before = rules.path.read_bytes()
    with pytest.raises(editing.SaveRefused) as refused:
        editing.save(store, rules, BROKEN, "ada", check=check(rules))
    [problem] = refused.value.problems
    assert problem.line == 4 and "not valid YAML" in problem.message
    assert rules.path.read_bytes() == before
    assert rows(store) == []
    assert [p.name for p in rules.path.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_the_web_check_and_rules_check_give_the_same_answer(rules, tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    text = (
        editing.read(rules.path)
        .replace("priority: 100", "priority: high", 1)
        .replace("id: dosage", "id: Dosage")
    )
    bad.write_text(text, encoding="utf-8")
    assert run_check(argparse.Namespace(file=str(bad))) == 1
    printed = capsys.readouterr().out.splitlines()
    found = editing.problems(rules, text)
    assert len(found) == 2
    assert printed == [f"{bad}:{p.line}: {p.message}" for p in found]


def test_a_save_over_a_file_changed_meanwhile_is_a_conflict(store, rules):
    opened = editing.file_state(store, rules).sha256
    rules.path.write_text(with_word(editing.read(rules.path)), encoding="utf-8")  # someone's hand edit
    theirs = rules.path.read_bytes()
    with pytest.raises(editing.Conflict) as conflict:
        editing.save(
            store, rules, editing.read(rules.path) + "# mine\n", "ada", check=check(rules), base_sha=opened
        )
    assert conflict.value.on_disk.encode() == theirs
    assert rules.path.read_bytes() == theirs and rows(store) == []


def test_rollback_restores_an_earlier_version_as_a_new_one(store, rules):
    original = editing.read(rules.path)
    editing.save(store, rules, with_word(original), "ada", check=check(rules))
    baseline = rows(store)[0]
    version = editing.rollback(store, rules, baseline.id, "bob", check=check(rules))
    assert editing.read(rules.path) == original
    assert version.content == original and version.saved_by == "bob"
    assert f"back to version {baseline.id}" in version.note
    with store.session() as s:
        actions = list(s.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions == ["rules_saved", "rules_rollback"]
    with pytest.raises(KeyError):
        editing.rollback(store, rules, 999, "bob", check=check(rules))


def test_a_recorded_hand_edit_with_mistakes_cannot_be_restored(store, rules):
    good = editing.read(rules.path)
    rules.path.write_text(BROKEN, encoding="utf-8")
    editing.save(store, rules, good, "ada", check=check(rules))  # keeps the broken hand edit first
    broken = rows(store)[0]
    assert broken.content == BROKEN
    with pytest.raises(editing.SaveRefused):
        editing.rollback(store, rules, broken.id, "ada", check=check(rules))
    assert editing.read(rules.path) == good


def test_a_change_outside_the_web_app_is_noticed_and_can_be_taken_as_a_version(store, rules):
    assert not editing.file_state(store, rules).changed_outside  # never saved: nothing to compare with
    editing.save(store, rules, with_word(editing.read(rules.path)), "ada", check=check(rules))
    assert not editing.file_state(store, rules).changed_outside
    rules.path.write_text(editing.read(rules.path) + "# tuned by hand\n", encoding="utf-8")
    state = editing.file_state(store, rules)
    assert state.changed_outside and state.modified is not None
    version = editing.adopt(store, rules, "ada", check=check(rules))
    assert version.content.endswith("# tuned by hand\n") and "outside the web app" in version.note
    assert not editing.file_state(store, rules).changed_outside
    assert editing.adopt(store, rules, "ada", check=check(rules)) is None


def test_templates_are_checked_before_saving(store, config):
    target = editing.find_target(config, "replies/es/topics/administration.txt.j2")
    from bot.templates import TemplateLoader

    loader = TemplateLoader(config.paths.replies, "en", ["en"])
    [problem] = editing.problems(target, "Hola {% if %}\n", loader)
    assert problem.line == 1
    assert editing.problems(target, "Hola {{ nombre_que_no_existe }}\n", loader)
    assert editing.problems(target, "Hola {{ greeting }}\n", loader) == []
    disclaimer = editing.find_target(config, "replies/es/disclaimer.txt")
    assert editing.problems(disclaimer, "  \n") and editing.problems(disclaimer, "Aviso.\n") == []
    strings = editing.find_target(config, "replies/en/strings.yaml")
    assert editing.problems(strings, 'greeting_named: "Hi {name},"\n')  # required words are missing
    with pytest.raises(KeyError):
        editing.find_target(config, "replies/es/packets/general_information.md")
    with pytest.raises(KeyError):
        editing.find_target(config, "replies/../rules.yaml")


def test_write_atomically_keeps_permissions_and_leaves_no_temp_file(tmp_path):
    path = tmp_path / "f.yaml"
    path.write_text("old", encoding="utf-8")
    path.chmod(0o640)
    write_atomically(path, "new")
    assert path.read_text() == "new" and stat.S_IMODE(path.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["f.yaml"]


def test_the_live_rules_follow_a_save_and_ignore_a_broken_hand_edit(store, rules):
    live = LiveRules(rules.path)
    msg = parse_message(spanish())
    assert match_topics(msg, "es", live.current()).topic_ids == ()
    editing.save(store, rules, with_word(editing.read(rules.path)), "ada", check=check(rules))
    assert match_topics(msg, "es", live.current()).topic_ids == ("administration",)
    rules.path.write_text(BROKEN, encoding="utf-8")
    assert match_topics(msg, "es", live.current()).topic_ids == ("administration",)
    assert live.last_error is not None


def add(store: Store, n: int, raw: bytes, days_ago: float) -> None:
    with store.session() as s:
        s.add(
            Inquiry(
                source="test",
                uidvalidity=1,
                uid=n,
                message_id=f"<j{n}@example.es>",
                content_hash=f"{n:064d}",
                raw=raw,
                received_at=datetime.now(UTC) - timedelta(days=days_ago),
                action="manual",
                state="manual",
                topics=[],
                reasons=[],
            )
        )


def test_dry_run_lists_the_inquiries_whose_topics_would_change(store, config, rules):
    live = parse_rules(editing.read(rules.path))
    proposed = parse_rules(with_word(editing.read(rules.path)))
    add(store, 1, spanish("Jeringuilla", 1), days_ago=2)
    add(store, 2, spanish("Antigua", 2), days_ago=40)  # outside the 30 days
    with open(ROOT / "tests" / "e2e" / "mail" / "english_dosage_question.eml", "rb") as fh:
        add(store, 3, fh.read(), days_ago=1)  # not affected
    before, after = TriageContext.from_config(config, live), TriageContext.from_config(config, proposed)
    run = dry_run_inquiries(store, 30, before, after)
    assert run.checked == 2 and run.unreadable == 0
    [change] = run.changes
    assert (change.ref, change.subject) == ("1", "Jeringuilla")
    assert (change.before.topics, change.before.action) == ((), "manual")
    assert (change.after.topics, change.after.action, change.after.language) == (
        ("administration",),
        "draft",
        "es",
    )
    assert change.after.matched == (("administration", (WORD,)),)
    assert change.what == ("topics", "action")
    assert len(dry_run_inquiries(store, 60, before, after).changes) == 2


def test_dry_run_over_a_corpus_scores_like_rules_test(tmp_path, config, rules):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.eml").write_bytes(spanish("A", 1))
    shutil.copy(ROOT / "tests" / "e2e" / "mail" / "english_dosage_question.eml", corpus / "b.eml")
    expected = {
        "a.eml": {"language": "es", "topics": ["administration"], "action": "draft"},
        "b.eml": {"language": "en", "topics": ["dosage"], "action": "draft"},
    }
    (corpus / "expected.json").write_text(json.dumps(expected), encoding="utf-8")
    live = parse_rules(editing.read(rules.path))
    proposed = parse_rules(with_word(editing.read(rules.path)))
    run = dry_run_corpus(
        corpus, TriageContext.from_config(config, live), TriageContext.from_config(config, proposed)
    )
    assert run.checked == 2
    assert run.report_before.micro_f1 < run.report_after.micro_f1 == 1.0
    [change] = run.changes
    assert change.ref == "a.eml" and change.expected == expected["a.eml"]
    assert (
        dry_run_corpus(
            tmp_path, TriageContext.from_config(config, live), TriageContext.from_config(config, live)
        )
        is None
    )
