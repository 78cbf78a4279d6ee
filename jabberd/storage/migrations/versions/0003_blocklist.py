"""
Block lists (XEP-0191): one row per user and blocked JID.

Written out in full, as the earlier revisions are, so it keeps creating
the same table whatever later revisions add.
"""

from alembic import op
import sqlalchemy as sa

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "blocked_jids",
        sa.Column("username", sa.String(1023), nullable=False),
        sa.Column("jid", sa.String(3071), nullable=False),
        sa.PrimaryKeyConstraint("username", "jid", name="pk_blocked_jids"))


def downgrade():
    op.drop_table("blocked_jids")
