"""A batch is prepared with one look at the reply files and the rules, not one per message."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from bot import filestamps
from bot.prepare import prepare
from tests.unit.conftest import unit_services
from tests.unit.test_batch_ingest import START


def test_a_batch_checks_each_file_once_however_many_messages_it_drafts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = unit_services(tmp_path)
    raws = [
        f"From: p{n}@example.com\r\nSubject: Dose\r\nMessage-ID: <q{n}@example.com>\r\n\r\n"
        f"What is the dose of methylcobalamin?\r\n".encode()
        for n in range(30)
    ]
    looked: Counter[str] = Counter()
    stat = filestamps._stat

    def counting(path: object) -> filestamps.Stamp | None:
        looked[str(path)] += 1
        return stat(path)  # type: ignore[arg-type]

    monkeypatch.setattr(filestamps, "_stat", counting)
    try:
        with services.store.session() as s:
            prepared = prepare(services, s, raws, START)
        assert [p.draft is not None for p in prepared] == [True] * 30
        assert looked, "the batch never looked at its files"
        assert max(looked.values()) == 1, looked.most_common(3)
        assert str(services.config.paths.rules) in looked
    finally:
        services.close()
