"""Helpers shared by the command modules."""

from __future__ import annotations

import argparse
import os

from bot import logsetup
from bot.config import load_config
from bot.services import Services, build_services


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
