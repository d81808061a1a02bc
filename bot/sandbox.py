"""The Jinja2 sandbox reply templates run in, what they are given, and memory of simple sections.

:func:`sample_context` documents every name a template receives.

Staff edit the templates, so they run in Jinja2's sandbox. Two things make
each reply cheaper without changing a byte of what is written:

* :class:`ReplyEnvironment` looks up ``strings.intro`` in a plain dict
  directly. The sandbox tries the attribute first, fails (a dict has no
  ``intro`` attribute) and then takes the key; skipping the failed try gives
  the same value or the same undefined, and an attribute a dict does have
  (``items``) still goes through the sandbox's checks.
* :func:`render` keeps what a topic section rendered to, per values of the
  few names it reads, when its template can do nothing but read them: text,
  ``{{ name.key }}`` and ``{% if "x" in attached %}``. What such a template
  writes follows from those values alone, so a section is rendered once per
  template version and values (most are plain text). Anything else
  (filters, calls, loops, includes) is rendered every time.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from typing import Any

from jinja2 import Environment, FileSystemLoader, Template, nodes
from jinja2.sandbox import SandboxedEnvironment
from jinja2.utils import internalcode

# Every attribute of the values a context or a constant holds: a template reading one gets a
# bound method (printed with its address), so a template doing so is never remembered.
_KINDS = (dict, list, tuple, str, int, float, complex, bool, type(None))
_ATTRIBUTES = frozenset(name for kind in _KINDS for name in dir(kind))
_DICT_ATTRIBUTES = frozenset(dir(dict))
# AST nodes whose result follows from the values they read, with no call or side effect.
_PURE_NODES = (
    nodes.Template,
    nodes.Output,
    nodes.TemplateData,
    nodes.Const,
    nodes.Name,
    nodes.Getattr,
    nodes.Getitem,
    nodes.Compare,
    nodes.Operand,
    nodes.If,
    nodes.And,
    nodes.Or,
    nodes.Not,
    nodes.CondExpr,
    nodes.Concat,
)
_MAX_KEPT = 64  # sections kept per template version: values are few (packets attached, organisation)


class ReplyEnvironment(SandboxedEnvironment):
    """Jinja2's sandbox, with a plain dict's keys read without first failing to find an attribute."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        """What :meth:`SandboxedEnvironment.getattr` gives, sooner for a plain dict's keys."""
        if type(obj) is dict and type(attribute) is str and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except (TypeError, LookupError):
                pass  # the sandbox's own way gives the undefined value
        return super().getattr(obj, attribute)


class ReplyLoader(FileSystemLoader):
    """A FileSystemLoader whose templates know which names they read, when that is all they do."""

    @internalcode  # hidden from template tracebacks, as Jinja's own loader is
    def load(
        self, environment: Environment, name: str, globals: MutableMapping[str, Any] | None = None
    ) -> Template:
        """The template ``name``, as :meth:`FileSystemLoader.load` makes it, marked for :func:`render`."""
        if environment.bytecode_cache is not None:  # not ours: no marks, every section rendered
            return super().load(environment, name, globals)
        source, filename, uptodate = self.get_source(environment, name)
        code = environment.compile(source, name, filename)
        template = environment.template_class.from_code(
            environment, code, {} if globals is None else globals, uptodate
        )
        template.reads = _pure_reads(environment.parse(source, name, filename))  # type: ignore[attr-defined]
        template.kept = {}  # type: ignore[attr-defined]
        return template


def _pure_reads(tree: nodes.Template) -> tuple[str, ...] | None:
    """The names a template reads, or None when it does more than read them."""
    every = list(_walk(tree))
    if not all(map(_only_reads, every)):
        return None
    return tuple(dict.fromkeys(node.name for node in every if isinstance(node, nodes.Name)))


def _only_reads(node: nodes.Node) -> bool:
    if isinstance(node, nodes.Getattr):
        return node.attr not in _ATTRIBUTES
    if isinstance(node, nodes.Getitem):
        # A key a dict lacks is then tried as an attribute: only a constant that names none.
        return isinstance(node.arg, nodes.Const) and node.arg.value not in _ATTRIBUTES
    return isinstance(node, _PURE_NODES)


def _walk(node: nodes.Node) -> Iterator[nodes.Node]:
    yield node
    for child in node.iter_child_nodes():
        yield from _walk(child)


class _NotPlain(Exception):
    """A value that is not plain data, so two equal ones might not render alike."""


def _frozen(value: Any) -> Any:
    """``value`` as a key: equal keys render alike (type included: True is not 1, a list not a tuple)."""
    kind = type(value)
    if kind is str:
        return value
    if kind is int or kind is bool or value is None:
        return (kind, value)
    if kind is list:
        return (list, tuple(map(_frozen, value)))
    if kind is dict:
        return (dict, tuple((_frozen(k), _frozen(v)) for k, v in value.items()))
    raise _NotPlain


def render(template: Template, context: dict[str, Any]) -> str:
    """``template.render(context)``; for a template that only reads plain values, once per values."""
    reads = getattr(template, "reads", None)
    if reads is None:
        return template.render(context)
    try:
        key = tuple([_frozen(context[name]) for name in reads])
    except (KeyError, _NotPlain, RecursionError):  # a name Jinja finds elsewhere (a global), or odd data
        return template.render(context)
    kept: dict[tuple[Any, ...], str] = template.kept  # type: ignore[attr-defined]
    text = kept.get(key)
    if text is None:
        text = template.render(context)
        if len(kept) >= _MAX_KEPT:
            kept.clear()
        kept[key] = text
    return text


def sample_context(language: str = "en") -> dict[str, Any]:
    """A context with every name the composer passes to templates (the contract).

    - ``organisation``: ``name``, ``address``, ``reply_name``
    - ``sender_name``: the sender's display name, "" when unknown
    - ``greeting``: the greeting line, already chosen from ``strings``
    - ``language``: the language the reply is written in
    - ``subject``: the reply's subject
    - ``topics``: topic ids answered, highest priority first
    - ``sections``: (layouts) ``{"topic", "text"}`` rendered topic sections; empty in topic templates
    - ``packets``: attached documents: ``{"id", "title", "filename", "language"}``
    - ``attached``: ids of the attached packets
    - ``earlier``: ids of packets that were sent before and so not attached again
    - ``strings``: this language's ``strings.yaml`` (English keys fill the gaps)
    - ``signature``: the closing lines from the config
    """
    form = {
        "id": "prescription_form",
        "title": "Prescription form",
        "filename": "f.pdf",
        "language": language,
    }
    return {
        "organisation": {"name": "ALS Worldwide", "address": "support@example.org", "reply_name": "Team"},
        "sender_name": "Maria",
        "greeting": "Dear Maria,",
        "language": language,
        "subject": "Re: methylcobalamin",
        "topics": ["dosage"],
        "sections": [{"topic": "dosage", "text": "Section text."}],
        "packets": [form],
        "attached": ["prescription_form"],
        "earlier": [],
        "strings": {},
        "signature": "Team\nALS Worldwide",
    }
