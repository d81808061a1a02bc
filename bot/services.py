"""The long-lived pieces every command needs, built once from the config.

Like Flask's app factory, :func:`build_services` takes a config value and
returns everything wired, so a test builds its own with its own settings.
"""

from __future__ import annotations

import gc
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from bot import filestamps
from bot.config import Config
from bot.rules import Rules, RulesError, load_rules
from bot.store import Store

if TYPE_CHECKING:
    from bot.compose import PacketResolver
    from bot.pool import PreparePool
    from bot.templates import TemplateLoader

log = logging.getLogger(__name__)


@dataclass
class LiveRules:
    """The rules in force, reloaded when the file changes; an invalid file never replaces good rules.

    ``current()`` checks the file's modification time and, when it changed,
    loads it; a file with errors is refused (``last_error`` says why) and the
    last good rules stay live.
    """

    path: Path
    _rules: Rules | None = None
    _stamp: filestamps.Stamp | None = None
    last_error: RulesError | None = field(default=None)

    def current(self) -> Rules:
        """The live rules; raises :class:`RulesError` only when no good rules were ever loaded."""
        stamp = filestamps.stamp(self.path)
        if self._rules is None or stamp != self._stamp:
            try:
                self._rules = load_rules(self.path)
                self.last_error = None
                if self._stamp is not None:
                    log.info("rules reloaded", extra={"event": "rules_reloaded", "path": str(self.path)})
            except RulesError as exc:
                self.last_error = exc
                if self._rules is None:
                    raise
                log.error("rules refused, last good rules stay live: %s", exc)
            self._stamp = stamp
        return self._rules


@dataclass
class Services:
    """Config, database, live rules, templates and packets: what the stages share."""

    config: Config
    store: Store
    rules: LiveRules

    @property
    def replies_dir(self) -> Path:
        return self.config.paths.replies

    _cache: dict[str, object] = field(default_factory=dict, repr=False)

    def template_loader(self) -> TemplateLoader:
        """The process's template loader: built once (Jinja reloads a template whose file changed)."""
        if "loader" not in self._cache:
            from bot.templates import TemplateLoader

            langs = self.config.languages
            self._cache["loader"] = TemplateLoader(self.replies_dir, langs.default, list(langs.fallback))
        return self._cache["loader"]  # type: ignore[return-value]

    def reply_languages(self) -> frozenset[str]:
        """Languages with a full set of templates, read once per process (adding one needs a restart)."""
        if "languages" not in self._cache:
            self._cache["languages"] = self.template_loader().available_languages()
        return self._cache["languages"]  # type: ignore[return-value]

    def packet_resolver(self) -> PacketResolver:
        """The process's packet resolver (reads the catalogue once; PDFs are rebuilt when stale)."""
        if "packets" not in self._cache:
            from bot.compose import packet_resolver

            self._cache["packets"] = packet_resolver(self.config)
        return self._cache["packets"]  # type: ignore[return-value]

    def prepare_pool(self) -> PreparePool | None:
        """The worker processes for large batches, started on first use; None when configured off."""
        if "pool" not in self._cache:
            from bot.pool import PreparePool, pool_size

            size = pool_size(self.config)
            self._cache["pool"] = PreparePool(self.config, size) if size else None
        return self._cache["pool"]  # type: ignore[return-value]

    def warm_up(self) -> None:
        """Build once what every message needs (templates, reply languages, the packet resolver,
        the compiled rules), then keep the garbage collector from walking the long-lived objects."""
        self.template_loader()
        self.reply_languages()
        self.packet_resolver()
        _ = self.rules.current().compiled
        # What is alive now lives as long as the process: without gc.freeze() every full
        # collection walks all of it again while a backlog drains (~2-3% of its CPU, bench/README.md).
        gc.freeze()

    def close(self) -> None:
        pool = self._cache.pop("pool", None)
        if pool is not None:
            pool.close()  # type: ignore[attr-defined]
        self.store.close()


def build_services(config: Config, *, upgrade: bool = True) -> Services:
    """Open the database (migrating it unless ``upgrade`` is False) and load the rules for ``config``."""
    rules = LiveRules(config.paths.rules)
    rules.current()  # refuse to start on rules that never loaded
    return Services(config=config, store=Store(config.database.url, upgrade=upgrade), rules=rules)
