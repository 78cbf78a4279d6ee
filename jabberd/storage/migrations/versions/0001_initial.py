"""
The initial schema: accounts, rosters and roster versions, pending
subscription requests, offline messages, vCards, private XML and last
activity.

Written out in full (constraint names too) rather than taken from
C{schema.metadata}, so this revision keeps creating the same tables
whatever later revisions add.
"""

from alembic import op
import sqlalchemy as sa

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _username():
    return sa.Column("username", sa.String(1023), nullable=False)


def _jid(name="jid"):
    return sa.Column(name, sa.String(3071), nullable=False)


def _text(name):
    return sa.Column(name, sa.Text, nullable=False)


def _table(name, *columns, key=("username",)):
    op.create_table(name, *columns, sa.PrimaryKeyConstraint(*key, name="pk_" + name))


def upgrade():
    _table("users", _username(), _text("credentials"))
    _table("roster_items", _username(), _jid(), _text("name"),
           sa.Column("subscription", sa.String(8), nullable=False),
           sa.Column("ask", sa.String(16), nullable=False),
           sa.Column("approved", sa.Boolean, nullable=False),
           _text("groups"), key=("username", "jid"))
    _table("roster_versions", _username(),
           sa.Column("version", sa.Integer, nullable=False))
    _table("pending_subscriptions", _username(), _jid(), _text("xml"),
           key=("username", "jid"))
    _table("offline_messages",
           sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
           _username(), sa.Column("stamp", sa.Float, nullable=False), _text("xml"),
           key=("id",))
    op.create_index("ix_offline_messages_username_id", "offline_messages",
                    ["username", "id"])
    _table("vcards", _username(), _text("xml"))
    _table("private_xml", _username(), _jid("key"), _text("xml"),
           key=("username", "key"))
    _table("last_activity", _username(),
           sa.Column("stamp", sa.Float, nullable=False), _text("status"))


def downgrade():
    for name in ("last_activity", "private_xml", "vcards", "offline_messages",
                 "pending_subscriptions", "roster_versions", "roster_items",
                 "users"):
        op.drop_table(name)
