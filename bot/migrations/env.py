"""Alembic environment: runs migrations on the engine handed over by bot.store.db."""

from alembic import context
from sqlalchemy import create_engine

import bot.store.users  # noqa: F401
import bot.store.versions  # noqa: F401
from bot.store.models import Base

config = context.config
target_metadata = Base.metadata

engine = config.attributes.get("engine")
if engine is None:  # the alembic CLI: take the URL from alembic's own config
    engine = create_engine(config.get_main_option("sqlalchemy.url"))

with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # Batch mode rebuilds a table by copying it and dropping the old one; with foreign keys
        # on, dropping inquiry would delete every reply and audit entry (ON DELETE CASCADE).
        # The pragma only takes effect outside a transaction, so it comes first.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    # Batch mode lets later migrations alter tables on SQLite too.
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
    if sqlite:
        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
        connection.commit()
        if broken:
            raise RuntimeError(f"migration left {len(broken)} row(s) pointing at missing rows: {broken[:5]}")
