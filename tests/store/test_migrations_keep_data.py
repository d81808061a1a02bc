"""Upgrading a database keeps every row: no migration may empty a table by cascade.

On SQLite, Alembic's batch mode rebuilds a table by copying it and dropping
the old one; with foreign keys on, dropping ``inquiry`` used to delete every
reply and audit entry through ON DELETE CASCADE (migrations 0006 and 0007).
Migrations now run with foreign keys off and are checked afterwards.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from bot.store import Store
from bot.store.db import alembic_config
from tests.store.test_queue_flags import _inquiry_values, _reply_values


def _insert(conn: sa.Connection, table: str, values: dict[str, object]) -> int:
    reflected = sa.Table(table, sa.MetaData(), autoload_with=conn)
    row = {k: v for k, v in values.items() if k in reflected.c}
    return conn.execute(sa.insert(reflected).values(row).returning(reflected.c.id)).scalar_one()


def _counts(store: Store) -> dict[str, int]:
    with store.engine.connect() as conn:
        return {
            t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()
            for t in ("inquiry", "reply", "audit")
        }


def test_upgrading_from_the_first_schema_loses_no_reply_or_audit_entry(database_url: str) -> None:
    store = Store(database_url, upgrade=False)
    cfg = alembic_config(store.engine)
    command.upgrade(cfg, "0001")
    with store.engine.begin() as conn:
        for n in (1, 2):
            inquiry = _insert(conn, "inquiry", _inquiry_values(n, "drafted", flagged_on_server=False))
            _insert(conn, "reply", _reply_values(n, "draft", inquiry_id=inquiry))
            _insert(
                conn,
                "audit",
                {
                    "at": _inquiry_values(n, "x")["received_at"],
                    "actor": "staff",
                    "inquiry_id": inquiry,
                    "action": "approve",
                    "detail": {},
                },
            )
    for step in ("0002", "0003", "0004", "0005", "0006", "0007", "head"):
        command.upgrade(cfg, step)
        assert _counts(store) == {"inquiry": 2, "reply": 2, "audit": 2}, f"rows lost upgrading to {step}"
    if store.engine.dialect.name == "sqlite":
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1, "foreign keys left off"
    store.close()
