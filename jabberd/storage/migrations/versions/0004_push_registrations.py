"""
Push notifications (XEP-0357): one row per account, push service JID and
node, with the publish options given at enable.

Written out in full, as the earlier revisions are, so it keeps creating
the same table whatever later revisions add.
"""

from alembic import op
import sqlalchemy as sa

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "push_registrations",
        sa.Column("username", sa.String(1023), nullable=False),
        sa.Column("jid", sa.String(3071), nullable=False),
        sa.Column("node", sa.String(1023), nullable=False),
        sa.Column("options", sa.Text(), nullable=False),
        sa.Column("include_body", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("username", "jid", "node", name="pk_push_registrations"))


def downgrade():
    op.drop_table("push_registrations")
