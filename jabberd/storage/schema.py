# -*- test-case-name: tests.storage.test_sqlite -*-
"""
The SQL tables behind L{jabberd.storage.sql.SQLStorage}, as SQLAlchemy 2
Core objects on one L{MetaData}.

Adding a store (MUC rooms, uploaded files ...) means: define its tables here
on C{metadata}, add an Alembic revision under C{migrations/versions} that
creates them (the chain, not this module, builds real databases), and list
the table in L{USER_DATA} if it holds data that belongs to one account.
C{tests.storage.test_sqlite} checks that a migrated database matches this
module, so a forgotten revision fails a test.

Usernames are prepared localparts (RFC 7622 section 3.3, at most 1023
bytes); JIDs are bare JIDs (at most 3071 bytes).  XML payloads are
serialised text that the store never parses.
"""

from sqlalchemy import (Boolean, Column, Float, Index, Integer, MetaData,
                        String, Table, Text, UniqueConstraint)

__all__ = ["metadata", "users", "rosterItems", "rosterVersions",
           "pendingSubscriptions", "offlineMessages", "vcards",
           "privateXML", "lastActivity", "USER_DATA", "archiveMessages",
           "archivePreferences", "pubsubNodes", "pubsubItems",
           "pubsubAffiliations", "pubsubSubscriptions"]
__all__ += ["blockedJIDs"]
__all__ += ["pushRegistrations"]

# Deterministic constraint names, so later migrations can refer to them
# (and SQLite batch migrations can recreate them).
metadata = MetaData(naming_convention={
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})

USERNAME = 1023
JID = 3071

users = Table(
    "users", metadata,
    Column("username", String(USERNAME), primary_key=True),
    # The credentials dict of jabberd.auth.credentials, as JSON text.
    Column("credentials", Text, nullable=False),
)

rosterItems = Table(
    "roster_items", metadata,
    Column("username", String(USERNAME), primary_key=True),
    Column("jid", String(JID), primary_key=True),
    Column("name", Text, nullable=False, default=""),
    Column("subscription", String(8), nullable=False, default="none"),
    Column("ask", String(16), nullable=False, default=""),
    Column("approved", Boolean, nullable=False, default=False),
    # Group names as a JSON list: always read and written with the item.
    Column("groups", Text, nullable=False, default="[]"),
)

rosterVersions = Table(
    "roster_versions", metadata,
    Column("username", String(USERNAME), primary_key=True),
    Column("version", Integer, nullable=False),
)

pendingSubscriptions = Table(
    "pending_subscriptions", metadata,
    Column("username", String(USERNAME), primary_key=True),
    Column("jid", String(JID), primary_key=True),
    Column("xml", Text, nullable=False),
)

offlineMessages = Table(
    "offline_messages", metadata,
    # The id orders messages: oldest first is ascending id.
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(USERNAME), nullable=False),
    Column("stamp", Float, nullable=False),
    Column("xml", Text, nullable=False),
    Index("ix_offline_messages_username_id", "username", "id"),
)

vcards = Table(
    "vcards", metadata,
    Column("username", String(USERNAME), primary_key=True),
    Column("xml", Text, nullable=False),
)

privateXML = Table(
    "private_xml", metadata,
    Column("username", String(USERNAME), primary_key=True),
    # "{namespace}name" of the stored element (XEP-0049).
    Column("key", String(JID), primary_key=True),
    Column("xml", Text, nullable=False),
)

lastActivity = Table(
    "last_activity", metadata,
    Column("username", String(USERNAME), primary_key=True),
    Column("stamp", Float, nullable=False),
    Column("status", Text, nullable=False, default=""),
)

# Block lists (XEP-0191): one row per user and blocked JID (full, bare,
# domain/resource or domain, matched as XEP-0016 section 2.1 says).
blockedJIDs = Table(
    "blocked_jids", metadata,
    Column("username", String(USERNAME), primary_key=True),
    Column("jid", String(JID), primary_key=True),
)

# Tables whose rows belong to one account (column "username"): deleting
# the account deletes its rows from each.  Explicit deletes rather than
# foreign keys, because the stores accept data for a name before (or
# without) an account, as the memory store does, and SQLite enforces
# foreign keys only when asked per connection.
USER_DATA = (users, rosterItems, rosterVersions, pendingSubscriptions,
             offlineMessages, vcards, privateXML, lastActivity)
USER_DATA += (blockedJIDs,)


# Message archives (XEP-0313), one per owner (a user's or a room's bare
# JID).  "seq" orders and pages an archive; "id" is the unguessable archive
# id clients see (the XEP-0359 stanza-id).  Owners are JIDs, not usernames,
# so these tables are not in USER_DATA: the archive store removes them.
ARCHIVE_ID = 64
NODE = 1023

archiveMessages = Table(
    "archive_messages", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(ARCHIVE_ID), nullable=False, unique=True),
    Column("owner", String(JID), nullable=False),
    # The peer as on the stanza (full or bare), and its bare JID for
    # XEP-0313 section 4.1.1 "with" filters.
    Column("peer", String(JID), nullable=False),
    Column("peer_bare", String(JID), nullable=False),
    Column("direction", String(3), nullable=False),
    Column("type", String(16), nullable=False),
    Column("origin_id", String(ARCHIVE_ID * 4), nullable=False),
    Column("message_id", String(ARCHIVE_ID * 4), nullable=False),
    Column("stamp", Float, nullable=False),
    Column("xml", Text, nullable=False),
    Index("ix_archive_messages_owner_seq", "owner", "seq"),
    Index("ix_archive_messages_owner_stamp", "owner", "stamp"),
    Index("ix_archive_messages_owner_peer", "owner", "peer_bare", "seq"),
    Index("ix_archive_messages_stamp", "stamp"),
)

archivePreferences = Table(
    "archive_preferences", metadata,
    Column("owner", String(JID), primary_key=True),
    Column("default_mode", String(8), nullable=False),
    # JID lists as JSON: always read and written together.
    Column("always", Text, nullable=False),
    Column("never", Text, nullable=False),
)

# PubSub (XEP-0060) nodes of every service (an account's bare JID for PEP,
# or a pubsub component's domain).  Items, affiliations and subscriptions
# refer to their node by its "id", so a node created again under the same
# name starts empty.
pubsubNodes = Table(
    "pubsub_nodes", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("service", String(JID), nullable=False),
    Column("node", String(NODE), nullable=False),
    # The NodeConfig record as JSON.
    Column("config", Text, nullable=False),
    Column("created", Float, nullable=False),
    UniqueConstraint("service", "node", name="uq_pubsub_nodes_service_node"),
)

pubsubItems = Table(
    "pubsub_items", metadata,
    # Publication order: the newest item has the highest seq.
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("node_id", Integer, nullable=False),
    Column("item_id", String(NODE), nullable=False),
    Column("publisher", String(JID), nullable=False),
    Column("stamp", Float, nullable=False),
    Column("xml", Text, nullable=False),
    UniqueConstraint("node_id", "item_id", name="uq_pubsub_items_node_id_item_id"),
    Index("ix_pubsub_items_node_id_seq", "node_id", "seq"),
)

pubsubAffiliations = Table(
    "pubsub_affiliations", metadata,
    Column("node_id", Integer, primary_key=True),
    Column("jid", String(JID), primary_key=True),
    Column("affiliation", String(16), nullable=False),
    Index("ix_pubsub_affiliations_jid", "jid"),
)

pubsubSubscriptions = Table(
    "pubsub_subscriptions", metadata,
    Column("node_id", Integer, primary_key=True),
    Column("jid", String(JID), primary_key=True),
    Column("subid", String(ARCHIVE_ID), nullable=False),
    Column("state", String(16), nullable=False),
    # The subscription options as JSON.
    Column("options", Text, nullable=False),
    Index("ix_pubsub_subscriptions_jid", "jid"),
)


# Push notifications (XEP-0357): one row per account, push service JID and
# node; the publish-options form as serialised XML ("" when none).
pushRegistrations = Table(
    "push_registrations", metadata,
    Column("username", String(USERNAME), primary_key=True),
    Column("jid", String(JID), primary_key=True),
    Column("node", String(NODE), primary_key=True),
    Column("options", Text, nullable=False),
    Column("include_body", Boolean, nullable=False),
)
USER_DATA += (pushRegistrations,)
