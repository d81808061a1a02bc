"""Persistence: the ledger, the replies and the audit log (see models)."""

from bot.store import queueflags  # noqa: F401 - registers the flush listener
from bot.store.db import Store, migrate
from bot.store.models import (
    OPEN_STATES,
    Attachment,
    AuditEntry,
    Base,
    FolderState,
    Inquiry,
    InquiryState,
    Reply,
    ReplyState,
)
from bot.store.users import User

__all__ = [
    "OPEN_STATES",
    "Attachment",
    "AuditEntry",
    "Base",
    "FolderState",
    "Inquiry",
    "InquiryState",
    "Reply",
    "ReplyState",
    "Store",
    "User",
    "migrate",
]
