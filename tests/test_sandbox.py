"""The reply templates' sandbox: the same output as Jinja2's own, sections remembered only when safe."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from jinja2 import StrictUndefined, UndefinedError
from jinja2.sandbox import SandboxedEnvironment, SecurityError

from bot import sandbox
from bot.sandbox import ReplyEnvironment, ReplyLoader


def env(folder: Path, **templates: str) -> ReplyEnvironment:
    for name, source in templates.items():
        (folder / f"{name}.txt.j2").write_text(source, encoding="utf-8")
    return ReplyEnvironment(loader=ReplyLoader(str(folder)), undefined=StrictUndefined)


def counted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    renders: list[str] = []
    real = sandbox.Template.render

    def render(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        renders.append(self.name)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(sandbox.Template, "render", render)
    return renders


@pytest.mark.parametrize(
    "source",
    [
        "Plain text only.",
        '{% if "form" in attached %}attached{% elif earlier %}earlier{% else %}none{% endif %}',
        "Write to {{ organisation.address }} or {{ organisation['name'] }}, {{ attached[0] }}.",
        "{{ 'yes' if attached else 'no' }} {{ sender_name ~ '!' }} {{ not earlier and attached }}",
    ],
)
def test_sections_that_only_read_plain_values_are_rendered_once_per_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str
) -> None:
    template = env(tmp_path, section=source).get_template("section.txt.j2")
    assert template.reads is not None  # type: ignore[attr-defined]
    renders = counted(monkeypatch)
    ctx: dict[str, Any] = {
        "attached": ["form"],
        "earlier": [],
        "organisation": {"address": "a@example.org", "name": "Org"},
        "sender_name": "Maria",
    }
    first = sandbox.render(template, ctx)
    assert sandbox.render(template, dict(ctx)) == first
    assert len(renders) == 1
    other = sandbox.render(template, ctx | {"attached": ["other"], "earlier": ["form"]})
    assert other == template.render(ctx | {"attached": ["other"], "earlier": ["form"]})
    assert len(renders) == (3 if template.reads else 2)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "source",
    [
        "{{ attached.pop() }}",  # a call can change what it reads
        "{{ attached | length }}",  # filters are not looked into
        "{% for a in attached %}{{ a }}{% endfor %}",
        "{{ organisation.items }}",  # a dict's method, printed with its address
        "{{ organisation['keys'] }}",  # a missing key is then tried as an attribute
        "{{ organisation[sender_name] }}",  # a key only known at render time
        "{% set x = 1 %}{{ x }}",
        "{{ lipsum() }}",  # random text
        '{% include "other.txt.j2" %}',
        "{{ attached is defined }}",
    ],
)
def test_sections_that_do_more_than_read_are_rendered_every_time(tmp_path: Path, source: str) -> None:
    template = env(tmp_path, section=source, other="x").get_template("section.txt.j2")
    assert template.reads is None  # type: ignore[attr-defined]


def test_equal_looking_values_of_other_types_are_told_apart(tmp_path: Path) -> None:
    template = env(tmp_path, section="{{ value }}").get_template("section.txt.j2")
    outputs = [sandbox.render(template, {"value": v}) for v in (1, True, "1", [1], [True], {"a": 1}, None)]
    assert outputs == ["1", "True", "1", "[1]", "[True]", "{'a': 1}", "None"]
    assert sandbox.render(template, {"value": (1,)}) == "(1,)"  # not plain data: rendered, not kept
    assert sandbox.render(template, {"value": 1.0}) == "1.0"


def test_a_name_missing_from_the_context_is_left_to_jinja(tmp_path: Path) -> None:
    template = env(tmp_path, section="{{ range }}|{{ missing }}").get_template("section.txt.j2")
    with pytest.raises(UndefinedError):
        sandbox.render(template, {})


@pytest.mark.parametrize(
    "source",
    [
        "{{ d.key }}",
        "{{ d.missing is defined }}",
        "{{ d.items() | list }}",
        "{{ d.get('key') }}",
        "{{ d.keys }}",
        "{{ d.__class__ }}",
        "{{ d.mro }}",
        "{{ n.key }}",
        "{{ l.key }}",
    ],
)
def test_attributes_read_as_jinjas_sandbox_reads_them(source: str) -> None:
    ctx = {"d": {"key": "value", "items": "shadowed"}, "n": 3, "l": ["a"]}

    def outcome(environment: SandboxedEnvironment) -> object:
        try:
            return environment.from_string(source).render(ctx)
        except (UndefinedError, SecurityError) as exc:
            return (type(exc), str(exc))

    ours = outcome(ReplyEnvironment(undefined=StrictUndefined))
    assert ours == outcome(SandboxedEnvironment(undefined=StrictUndefined))
