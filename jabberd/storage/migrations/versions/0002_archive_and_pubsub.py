"""
The message archive (XEP-0313: messages and archiving preferences) and
PubSub/PEP (XEP-0060, XEP-0163: nodes, items, affiliations,
subscriptions).

Written out in full, as the initial revision is, so it keeps creating the
same tables whatever later revisions add.
"""

from alembic import op
import sqlalchemy as sa

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _string(name, length):
    return sa.Column(name, sa.String(length), nullable=False)


def _jid(name):
    return _string(name, 3071)


def _column(name, type_):
    return sa.Column(name, type_, nullable=False)


def _serial(name):
    return sa.Column(name, sa.Integer, autoincrement=True, nullable=False)


def _table(name, *columns, key):
    op.create_table(name, *columns, sa.PrimaryKeyConstraint(*key, name="pk_" + name))


def upgrade():
    _table("archive_messages", _serial("seq"), _string("id", 64), _jid("owner"),
           _jid("peer"), _jid("peer_bare"), _string("direction", 3),
           _string("type", 16), _string("origin_id", 256), _string("message_id", 256),
           _column("stamp", sa.Float), _column("xml", sa.Text),
           sa.UniqueConstraint("id", name="uq_archive_messages_id"), key=("seq",))
    op.create_index("ix_archive_messages_owner_seq", "archive_messages", ["owner", "seq"])
    op.create_index("ix_archive_messages_owner_stamp", "archive_messages", ["owner", "stamp"])
    op.create_index("ix_archive_messages_owner_peer", "archive_messages",
                    ["owner", "peer_bare", "seq"])
    op.create_index("ix_archive_messages_stamp", "archive_messages", ["stamp"])
    _table("archive_preferences", _jid("owner"), _string("default_mode", 8),
           _column("always", sa.Text), _column("never", sa.Text), key=("owner",))

    _table("pubsub_nodes", _serial("id"), _jid("service"), _string("node", 1023),
           _column("config", sa.Text), _column("created", sa.Float),
           sa.UniqueConstraint("service", "node", name="uq_pubsub_nodes_service_node"),
           key=("id",))
    _table("pubsub_items", _serial("seq"), _column("node_id", sa.Integer),
           _string("item_id", 1023), _jid("publisher"), _column("stamp", sa.Float),
           _column("xml", sa.Text),
           sa.UniqueConstraint("node_id", "item_id", name="uq_pubsub_items_node_id_item_id"),
           key=("seq",))
    op.create_index("ix_pubsub_items_node_id_seq", "pubsub_items", ["node_id", "seq"])
    _table("pubsub_affiliations", _column("node_id", sa.Integer), _jid("jid"),
           _string("affiliation", 16), key=("node_id", "jid"))
    op.create_index("ix_pubsub_affiliations_jid", "pubsub_affiliations", ["jid"])
    _table("pubsub_subscriptions", _column("node_id", sa.Integer), _jid("jid"),
           _string("subid", 64), _string("state", 16), _column("options", sa.Text),
           key=("node_id", "jid"))
    op.create_index("ix_pubsub_subscriptions_jid", "pubsub_subscriptions", ["jid"])


def downgrade():
    for name in ("pubsub_subscriptions", "pubsub_affiliations", "pubsub_items",
                 "pubsub_nodes", "archive_preferences", "archive_messages"):
        op.drop_table(name)
