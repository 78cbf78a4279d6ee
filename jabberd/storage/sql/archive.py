# -*- test-case-name: tests.storage.test_archive -*-
"""
The message archive (XEP-0313) on SQL: L{IArchiveStore} over a
C{database} whose C{read(work, *args)}/C{write(work, *args)} run
C{work(connection, *args)} in a worker thread (a write in one committed
transaction, its Deferred firing after the commit).

A page is computed in the database: the filters of XEP-0313 section 4.1
become one WHERE clause, the XEP-0059 window over it one ordered, limited
SELECT, so a page costs a few indexed statements whatever the archive's
size.
"""

import json
import time

from sqlalchemy import delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from zope.interface import implementer

from jabberd.storage.interfaces import IArchiveStore
from jabberd.storage.records import (ArchivedMessage, ArchivePage,
                                     ArchivePreferences, UnknownArchiveId,
                                     bareJID, randomId)
from jabberd.storage.schema import archiveMessages, archivePreferences

__all__ = ["SQLArchiveStore"]

_t = archiveMessages.c

# INSERT ... ON CONFLICT DO UPDATE, in both supported dialects.
_UPSERT = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


def _seq(connection, owner, archiveId):
    """The sequence number of C{owner}'s message C{archiveId}."""
    seq = connection.execute(select(_t.seq).where(
        _t.owner == owner, _t.id == archiveId)).scalar()
    if seq is None:
        raise UnknownArchiveId(archiveId)
    return seq


def _withFilter(with_):
    """XEP-0313 section 4.1.1; the bare JID is compared too, for the index."""
    clauses = [_t.peer_bare == bareJID(with_)]
    if "/" in with_:
        clauses.append(_t.peer == with_)
    return clauses


def _row(owner, message):
    """The table row of C{message}, its id and stamp filled in if unset."""
    if message.id is None:
        message.id = randomId()
    if message.stamp is None:
        message.stamp = time.time()
    return {"id": message.id, "owner": owner, "peer": message.peer,
            "peer_bare": bareJID(message.peer), "direction": message.direction,
            "type": message.type, "origin_id": message.originId or "",
            "message_id": message.messageId or "", "stamp": message.stamp,
            "xml": message.xml}


def _rowToMessage(row):
    return ArchivedMessage(peer=row.peer, direction=row.direction, xml=row.xml,
                           type=row.type, stamp=row.stamp, originId=row.origin_id,
                           messageId=row.message_id, id=row.id)


@implementer(IArchiveStore)
class SQLArchiveStore:
    """
    Archives in the C{archive_messages} table, preferences in
    C{archive_preferences}.

    @ivar database: the database the work runs on.
    """

    def __init__(self, database):
        self.database = database

    def append(self, owner, message):
        return self.appendMany([(owner, message)]).addCallback(lambda ids: ids[0])

    def appendMany(self, entries):
        rows = [_row(owner, message) for owner, message in entries]

        def work(connection):
            # One statement per row, in order: the seq column keeps it.
            for row in rows:
                connection.execute(insert(archiveMessages).values(**row))
            return [row["id"] for row in rows]
        return self.database.write(work)

    def query(self, owner, with_=None, start=None, end=None, beforeId=None,
              afterId=None, ids=None, max=None, after=None, before=None,
              flip=False):
        def work(connection):
            filters = [_t.owner == owner]
            if with_ is not None:
                filters.extend(_withFilter(with_))
            if start is not None:
                filters.append(_t.stamp >= start)
            if end is not None:
                filters.append(_t.stamp <= end)
            if afterId is not None:
                filters.append(_t.seq > _seq(connection, owner, afterId))
            if beforeId is not None:
                filters.append(_t.seq < _seq(connection, owner, beforeId))
            if ids is not None:
                filters.append(_t.id.in_(list(ids)))
            return _page(connection, owner, filters, max, after, before, flip)
        return self.database.read(work)

    def get(self, owner, id):
        def work(connection):
            row = connection.execute(select(archiveMessages).where(
                _t.owner == owner, _t.id == id)).first()
            return None if row is None else _rowToMessage(row)
        return self.database.read(work)

    def countOwner(self, owner):
        def work(connection):
            return _count(connection, [_t.owner == owner])
        return self.database.read(work)

    def trim(self, owner, keep):
        def work(connection):
            # The newest message beyond the C{keep} newest, and all older.
            cutoff = connection.execute(
                select(_t.seq).where(_t.owner == owner).order_by(_t.seq.desc())
                .offset(keep).limit(1)).scalar()
            if cutoff is None:
                return 0
            return connection.execute(delete(archiveMessages).where(
                _t.owner == owner, _t.seq <= cutoff)).rowcount
        return self.database.write(work)

    def expire(self, before):
        def work(connection):
            return connection.execute(delete(archiveMessages).where(
                _t.stamp < before)).rowcount
        return self.database.write(work)

    def removeOwner(self, owner):
        def work(connection):
            connection.execute(delete(archiveMessages).where(_t.owner == owner))
            connection.execute(delete(archivePreferences).where(
                archivePreferences.c.owner == owner))
        return self.database.write(work)

    def getPreferences(self, owner):
        def work(connection):
            row = connection.execute(select(archivePreferences).where(
                archivePreferences.c.owner == owner)).first()
            if row is None:
                return None
            return ArchivePreferences(row.default_mode, json.loads(row.always),
                                      json.loads(row.never))
        return self.database.read(work)

    def setPreferences(self, owner, prefs):
        values = {"default_mode": prefs.default, "always": json.dumps(list(prefs.always)),
                  "never": json.dumps(list(prefs.never))}

        def work(connection):
            statement = _UPSERT[connection.dialect.name](archivePreferences).values(
                owner=owner, **values)
            connection.execute(statement.on_conflict_do_update(
                index_elements=["owner"], set_=values))
        return self.database.write(work)

    def preferenceOwners(self):
        def work(connection):
            return set(connection.execute(select(archivePreferences.c.owner)).scalars())
        return self.database.read(work)


def _count(connection, filters):
    return connection.execute(
        select(func.count()).select_from(archiveMessages).where(*filters)).scalar_one()


def _page(connection, owner, filters, max, after, before, flip):
    """
    The XEP-0059 page of the messages matching C{filters}: forwards from
    C{after} (or the start), or, when C{before} is given, backwards from it
    (C{""}: from the end).  One row beyond the page tells whether it is
    complete.
    """
    window = list(filters)
    if after:
        window.append(_t.seq > _seq(connection, owner, after))
    if before:
        window.append(_t.seq < _seq(connection, owner, before))
    backwards = before is not None
    statement = select(archiveMessages).where(*window).order_by(
        _t.seq.desc() if backwards else _t.seq.asc())
    if max is not None:
        statement = statement.limit(max + 1)
    rows = connection.execute(statement).all()
    complete = max is None or len(rows) <= max
    rows = rows if max is None else rows[:max]
    if backwards:
        rows.reverse()
    index = _count(connection, filters + [_t.seq < rows[0].seq]) if rows else None
    return ArchivePage.fromItems([_rowToMessage(r) for r in rows],
                                 count=_count(connection, filters), index=index,
                                 complete=complete, flip=flip)
