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
                        String, Table, Text)

__all__ = ["metadata", "users", "rosterItems", "rosterVersions",
           "pendingSubscriptions", "offlineMessages", "vcards",
           "privateXML", "lastActivity", "USER_DATA"]

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
    # The credentials dict of jabberd.auth, as JSON text.
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

# Tables whose rows belong to one account (column "username"): deleting
# the account deletes its rows from each.  Explicit deletes rather than
# foreign keys, because the stores accept data for a name before (or
# without) an account, as the memory store does, and SQLite enforces
# foreign keys only when asked per connection.
USER_DATA = (users, rosterItems, rosterVersions, pendingSubscriptions,
             offlineMessages, vcards, privateXML, lastActivity)
