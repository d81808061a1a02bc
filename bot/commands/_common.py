"""Helpers shared by the command modules."""

from __future__ import annotations

import argparse
import os

from bot import logsetup
from bot.config import Config, ConfigError, config_path, load_config
from bot.rules import load_rules
from bot.services import Services, build_services
from bot.triage import TriageContext


def setup_logging(default: str = "WARNING") -> None:
    """JSON-line logs on stderr; level from $BOT_LOG_LEVEL (one-shot commands default to WARNING)."""
    logsetup.setup(os.environ.get("BOT_LOG_LEVEL", default))


def services_for(args: argparse.Namespace) -> Services:
    """Load the config named on the command line and build the services from it."""
    setup_logging()
    return build_services(load_config(getattr(args, "config", None)))


def actor() -> str:
    """Who is acting from the terminal, for the audit log."""
    return "cli:" + (os.environ.get("SUDO_USER") or os.environ.get("USER") or "unknown")


def optional_config(args: argparse.Namespace) -> Config | None:
    """The config when there is one: commands that only classify work without a mail configuration.

    A missing default config is fine (None); an explicitly named one must load.
    """
    if not (getattr(args, "config", None) or config_path().exists()):
        return None
    try:
        return load_config(args.config)
    except ConfigError:
        if args.config:
            raise
        return None


def triage_context(args: argparse.Namespace) -> TriageContext:
    """Rules (``--rules``, else the config's, else rules.yaml) and languages for classifying files."""
    config = optional_config(args)
    rules_path = getattr(args, "rules", None) or (config.paths.rules if config else "rules.yaml")
    return TriageContext.from_config(config, load_rules(rules_path))
