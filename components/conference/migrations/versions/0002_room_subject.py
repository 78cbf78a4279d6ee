"""
The subject of a persistent room and who set it (XEP-0045 section 8.1):
like its configuration, it outlives restarts.
"""

from alembic import op
import sqlalchemy as sa

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("muc_rooms") as batch:
        batch.add_column(sa.Column("subject", sa.Text, nullable=True))
        batch.add_column(sa.Column("subject_from", sa.String(3071), nullable=True))


def downgrade():
    with op.batch_alter_table("muc_rooms") as batch:
        batch.drop_column("subject_from")
        batch.drop_column("subject")
