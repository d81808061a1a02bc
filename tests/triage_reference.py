"""Triage as it was before it was made fast: commit REFERENCE_COMMIT's code, run in a subprocess.

Not a test module. :func:`reference_triages` unpacks the code of ``bot/`` at
that commit (kept beside this file) into a temporary folder, starts a
Python there that imports it instead of this checkout's, and has it triage
the given parsed messages in every context of :data:`CONTEXTS`, with this
checkout's rules.yaml. The messages go in, and the Triage values come back,
pickled: ``bot.message`` is the same on both sides, so they compare with ``==``.

The lookups a context may use are here too, as plain functions of the
message, so that both sides see the same history and conversations.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import tarfile
import zlib
from pathlib import Path

from bot.message import Conversation, ParsedMessage

ROOT = Path(__file__).resolve().parent.parent
REFERENCE_COMMIT = "5524a7a"  # the last commit before triage was made faster
ARCHIVE = ROOT / "tests" / "triage_reference.tar.gz"

# (own addresses, languages with templates, Languages fields, whether the lookups are used)
CONTEXTS: tuple[tuple[frozenset[str], frozenset[str], dict[str, object], bool], ...] = (
    (frozenset({"support@example.org", "help@alsb12.example.org"}), frozenset({"en", "es"}), {}, False),
    (frozenset(), frozenset({"en"}), {"default": "es", "fallback": ["fr", "es"]}, True),
)


def history(address: str) -> str | None:
    """A sender's earlier language: fixed per address, often none, sometimes one never supported."""
    return ("es", "de", "xx", None, None)[zlib.crc32(address.encode()) % 5]


def conversation(msg: ParsedMessage) -> Conversation | None:
    """Every third message (by its Message-ID) follows up an earlier inquiry."""
    root = zlib.crc32(msg.message_id.encode()) % 3
    return Conversation(root + 1, ("p1",), "in-reply-to") if root == 0 else None


_RUN = """
import pickle, sys
old, tests, rules_path = sys.argv[1:4]
sys.path.insert(0, old)
sys.path.append(tests)  # last: only this module is wanted from there
import triage_reference as lookups
from bot.config import Languages
from bot.rules import load_rules
from bot.triage import TriageContext, triage_message
rules = load_rules(rules_path)
msgs = pickle.load(sys.stdin.buffer)
out = []
for own, available, languages, with_lookups in lookups.CONTEXTS:
    ctx = TriageContext(
        rules=rules, languages=Languages(**languages), own_addresses=own, available=available,
        history=lookups.history if with_lookups else None,
        conversation=lookups.conversation if with_lookups else None,
    )
    out.append([triage_message(m, ctx) for m in msgs])
pickle.dump(out, sys.stdout.buffer, pickle.HIGHEST_PROTOCOL)
"""


def extract_reference(into: Path) -> Path:
    """The modules of ``bot/`` triage used at REFERENCE_COMMIT, written under ``into``; returns ``into``.

    They come from ``triage_reference.tar.gz`` beside this file (``git archive`` of that
    commit, only the modules ``bot.triage`` imported), so the test needs no git history:
    a shallow or exported checkout runs it too.
    """
    with tarfile.open(ARCHIVE) as tar:
        tar.extractall(into, filter="data")
    return into


def reference_triages(old: Path, msgs: list[ParsedMessage]) -> list[list[object]]:
    """Per context of CONTEXTS, the reference code's Triage of each message (``old``: extract_reference's)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [sys.executable, "-c", _RUN, str(old), str(ROOT / "tests"), str(ROOT / "rules.yaml")],
        input=pickle.dumps(msgs, pickle.HIGHEST_PROTOCOL),
        capture_output=True,
        cwd=old,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-3000:]
    return pickle.loads(done.stdout)
