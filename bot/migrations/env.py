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
    # Batch mode lets later migrations alter tables on SQLite too.
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
