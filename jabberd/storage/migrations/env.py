"""The core chain's Alembic environment (see L{jabberd.storage.migrations.environment})."""

from jabberd.storage.migrations.environment import run

run()
