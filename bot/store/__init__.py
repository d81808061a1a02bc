"""Persistence: the ledger, the replies and the audit log (see models)."""

from bot.store.db import Store, migrate
from bot.store.models import (
    OPEN_STATES,
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
