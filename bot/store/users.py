"""Staff accounts for the web app: who may sign in, and with which role.

Passwords are stored only as argon2 hashes (see ``bot.web.security``); the
plain password never reaches the database or the logs. Accounts are made
with ``python run.py users add NAME --role ROLE``.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.models import Base, utcnow


class Role(enum.StrEnum):
    """What an account may do: staff review the queue; admins also see the admin pages."""

    STAFF = "staff"
    ADMIN = "admin"


class User(Base):
    """One staff account. ``username`` is unique and compared lower-cased."""

    __tablename__ = "web_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default=Role.STAFF.value)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN
