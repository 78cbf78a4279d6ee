"""
Persistent rooms and their affiliations.

Before this chain existed the store created these tables itself; on such a
database they are already there and are left as they are, so the chain
takes over an existing deployment without touching its rooms.
"""

from alembic import op
import sqlalchemy as sa

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "muc_rooms" not in existing:
        op.create_table(
            "muc_rooms",
            sa.Column("jid", sa.String(3071), nullable=False),
            sa.Column("config", sa.JSON, nullable=False),
            sa.PrimaryKeyConstraint("jid", name="pk_muc_rooms"),
        )
    if "muc_affiliations" not in existing:
        op.create_table(
            "muc_affiliations",
            sa.Column("room", sa.String(3071), nullable=False),
            sa.Column("jid", sa.String(3071), nullable=False),
            sa.Column("affiliation", sa.String(16), nullable=False),
            sa.Column("reason", sa.Text, nullable=False),
            sa.PrimaryKeyConstraint("room", "jid", name="pk_muc_affiliations"),
        )


def downgrade():
    op.drop_table("muc_affiliations")
    op.drop_table("muc_rooms")
