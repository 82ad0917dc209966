from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from crosspath.settings import Settings
from crosspath.store.engine import make_engine
from crosspath.store.tables import metadata


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    engine = make_engine(Settings.from_env().database_url)
    with engine.connect() as conn:
        run(conn)
