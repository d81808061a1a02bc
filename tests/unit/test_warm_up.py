"""Start-up work is done once, before the first message, and kept out of the collector's way."""

from __future__ import annotations

import gc
from pathlib import Path

from tests.unit.conftest import unit_services


def test_warm_up_builds_every_per_process_cache_and_freezes_them(tmp_path: Path) -> None:
    services = unit_services(tmp_path)
    assert not {"loader", "languages", "packets"} & set(services._cache)
    try:
        services.warm_up()
        assert {"loader", "languages", "packets"} <= set(services._cache)
        assert services.reply_languages() >= {"en", "es"}
        assert gc.get_freeze_count() > 0  # the long-lived objects are out of the collector's walks
    finally:
        gc.unfreeze()  # this is a test process: let the collector see its objects again
        services.close()
