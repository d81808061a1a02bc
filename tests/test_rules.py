"""rules.yaml and its loader: the shipped file, every kind of mistake at its line, the check command."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.rules import PACKET_IDS, RuleProblem, RulesError, load_rules, parse_rules

ROOT = Path(__file__).resolve().parent.parent
RULES_FILE = ROOT / "rules.yaml"
TOPIC_IDS = {
    "general_info", "research", "dosage", "administration", "obtaining", "precautions",
    "enrollment", "spanish_materials", "human_contact", "urgent", "unsubscribe",
}  # fmt: skip

MINIMAL = """\
version: 1
topics:
  - id: dosage
    title: Dose
    priority: 50
    template: dosage
    keywords:
      en: [dose]
    packets:
      en: [injection_information]
"""


@pytest.fixture(scope="module")
def rules():
    return load_rules(RULES_FILE)


def problems(text: str) -> list[RuleProblem]:
    with pytest.raises(RulesError) as info:
        parse_rules(text, "r.yaml")
    return info.value.problems


def test_shipped_rules_have_the_fixed_topics_by_priority(rules):
    assert {t.id for t in rules.topics} == TOPIC_IDS
    priorities = [t.priority for t in rules.topics]
    assert priorities == sorted(priorities, reverse=True)
    assert rules.topics[0].id == "urgent"
    assert rules.topic("urgent").approval == "review"
    assert all(t.template == t.id for t in rules.topics)


def test_shipped_packet_mapping(rules):
    def packets(topic, lang):
        return rules.topic(topic).packets.get(lang, [])

    for lang in ("en", "es"):
        assert packets("general_info", lang) == ["general_information"]
        assert packets("research", lang) == ["general_information"]
        for topic in ("dosage", "administration", "precautions"):
            assert packets(topic, lang) == ["injection_information"]
        assert packets("obtaining", lang) == ["prescription_form"]
        assert packets("enrollment", lang) == ["participant_profile", "baseline_status_report"]
        assert sorted(packets("spanish_materials", lang)) == sorted(PACKET_IDS)
        for topic in ("human_contact", "urgent", "unsubscribe"):
            assert packets(topic, lang) == []


def test_packets_for_is_in_priority_order_without_duplicates(rules):
    assert rules.packets_for(["dosage", "obtaining"], "en") == ["prescription_form", "injection_information"]
    assert rules.packets_for(["dosage", "administration", "precautions"], "es") == ["injection_information"]
    assert rules.packets_for(["research", "general_info"], "es") == ["general_information"]
    assert rules.packets_for(["urgent"], "en") == []
    # A language without its own list uses the English one.
    assert rules.packets_for(["obtaining"], "pt") == ["prescription_form"]


def test_keywords_by_language_is_language_evidence(rules):
    evidence = rules.keywords_by_language()
    assert "receta" in evidence["es"]
    assert "prescription" in evidence["en"]
    assert "inscripcion" in evidence["es"]  # folded
    # Listed in several languages, so it tells none of them apart.
    assert "farmacia" not in evidence["es"]
    assert "dose" not in evidence["en"]


def test_matcher_is_compiled_once(rules):
    assert rules.compiled is rules.compiled


def test_minimal_file_loads_and_approval_defaults_to_review():
    rules = parse_rules(MINIMAL)
    assert rules.topic("dosage").approval == "review"
    with pytest.raises(KeyError):
        rules.topic("nope")


def test_yaml_syntax_error_names_the_line():
    [p] = problems(MINIMAL.replace("keywords:\n      en: [dose]", "keywords:\n      en: [dose"))
    assert p.file == "r.yaml" and p.line >= 8 and "not valid YAML" in p.message


def test_schema_error_maps_back_to_its_line():
    [p] = problems(MINIMAL.replace("priority: 50", "priority: high"))
    assert (p.line, p.message.split(":")[0]) == (5, "topics[0].priority")
    assert str(p).startswith("r.yaml:5: topics[0].priority")


def test_unknown_packet_and_bad_language_code_and_missing_template():
    text = MINIMAL.replace("[injection_information]", "[injection_info]").replace("en: [dose]", "eng: [dose]")
    text = text.replace("    template: dosage\n", "")
    found = {p.line: p.message for p in problems(text)}
    assert any("template" in m and "missing" in m for m in found.values())
    assert any("'eng' is not a two-letter language code" in m for m in found.values())
    assert any("packets.en[0]" in m for m in found.values())


def test_urgent_can_never_be_auto():
    text = MINIMAL.replace("id: dosage", "id: urgent").replace("template: dosage", "template: urgent")
    [p] = problems(text.replace("priority: 50", "priority: 50\n    approval: auto"))
    assert p.line == 6 and "never" in p.message


def test_bad_regex_unusable_phrase_and_duplicate_id_each_at_their_line():
    text = MINIMAL.replace("en: [dose]", "en: [dose, 'ab*']\n    patterns:\n      en: ['(unclosed']")
    text += text.split("topics:\n")[1]  # the same topic twice
    found = {(p.line, p.message.split(":")[0]) for p in problems(text)}
    assert (8, "topics[0].keywords.en[1]") in found
    assert (10, "topics[0].patterns.en[0]") in found
    assert any(m == "topics[1].id" for _, m in found)


def test_every_problem_is_reported_on_its_own_line_of_the_error():
    text = MINIMAL.replace("priority: 50", "priority: x").replace(
        "title: Dose", "title: Dose\n    colour: red"
    )
    with pytest.raises(RulesError) as info:
        parse_rules(text, "r.yaml")
    lines = str(info.value).splitlines()
    assert len(lines) == 2 and all(line.startswith("r.yaml:") for line in lines)
    assert "unknown key" in str(info.value)


def test_unreadable_file(tmp_path):
    with pytest.raises(RulesError) as info:
        load_rules(tmp_path / "missing.yaml")
    assert "cannot read" in str(info.value)


def test_rules_check_command(tmp_path, capsys, monkeypatch):
    assert main(["rules", "check", str(RULES_FILE)]) == 0
    assert capsys.readouterr().out.strip() == f"{RULES_FILE}: OK (11 topics)"
    monkeypatch.chdir(ROOT)  # the default path needs no config
    assert main(["rules", "check"]) == 0
    assert capsys.readouterr().out.strip() == "rules.yaml: OK (11 topics)"
    bad = tmp_path / "bad.yaml"
    bad.write_text(MINIMAL.replace("priority: 50", "priority: high"), encoding="utf-8")
    assert main(["rules", "check", str(bad)]) == 1
    assert capsys.readouterr().out.strip().startswith(f"{bad}:5: topics[0].priority")
