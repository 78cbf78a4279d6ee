"""
The message archive store (XEP-0313 with XEP-0059 paging): one set of
tests run on the memory store, on SQLite and on PostgreSQL.
"""

import time

from twisted.internet import defer
from twisted.trial import unittest
from zope.interface.verify import verifyObject

from jabberd.storage.memory.archive import MemoryArchiveStore
from jabberd.storage.interfaces import IArchiveStore
from jabberd.storage.records import (ArchivedMessage, ArchivePreferences,
                                     UnknownArchiveId)
from jabberd.storage.sql.archive import SQLArchiveStore
from tests.storage.databases import PostgreSQLDatabaseMixin, SQLiteDatabaseMixin

ALICE = "alice@example.com"
ROOM = "room@conference.example.com"


def message(n, peer="bob@example.com/phone", direction="in", stamp=None):
    return ArchivedMessage(peer=peer, direction=direction,
                           xml=f"<message xmlns='jabber:client'><body>m{n} ✓</body></message>",
                           stamp=1000.0 + n if stamp is None else stamp,
                           originId=f"origin-{n}", messageId=f"id-{n}")


class ArchiveStoreTestsMixin:
    """Every behaviour of L{IArchiveStore}; C{makeStore()} returns an empty store."""

    def setUp(self):
        self.store = self.makeStore()

    @defer.inlineCallbacks
    def fill(self, count, owner=ALICE, **kwargs):
        """Append C{count} messages (stamps 1000, 1001, ...); their archive ids."""
        ids = []
        for n in range(count):
            ids.append((yield self.store.append(owner, message(n, **kwargs))))
        return ids

    @defer.inlineCallbacks
    def assertPage(self, expectedIds, complete, count, index=None, **query):
        page = yield self.store.query(ALICE, **query)
        self.assertEqual([m.id for m in page.items], expectedIds)
        self.assertEqual((page.first, page.last),
                         (expectedIds[0], expectedIds[-1]) if expectedIds else (None, None))
        self.assertEqual((page.complete, page.count), (complete, count))
        if index is not None:
            self.assertEqual(page.index, index)
        return page

    def test_interface(self):
        """The store provides IArchiveStore."""
        self.assertTrue(verifyObject(IArchiveStore, self.store))

    @defer.inlineCallbacks
    def test_appendAndGet(self):
        """An appended message comes back by its archive id with every field as given."""
        original = message(1, direction="out")
        archiveId = yield self.store.append(ALICE, original)
        self.assertEqual(original.id, archiveId)
        stored = yield self.store.get(ALICE, archiveId)
        self.assertEqual(stored, ArchivedMessage(
            peer="bob@example.com/phone", direction="out", xml=original.xml, type="chat",
            stamp=1001.0, originId="origin-1", messageId="id-1", id=archiveId))

    @defer.inlineCallbacks
    def test_idsUnguessable(self):
        """Archive ids are distinct, long random strings, not counters."""
        ids = yield self.fill(5)
        self.assertEqual(len(set(ids)), 5)
        self.assertTrue(all(len(i) >= 16 and i.isalnum() for i in ids))
        # Counters would share all but their last characters.
        self.assertGreater(len({i[:8] for i in ids}), 1)

    @defer.inlineCallbacks
    def test_appendMany(self):
        """Several owners' messages appended in one call keep their order and ids."""
        entries = [(ALICE, message(1)), (ROOM, message(2)), (ALICE, message(3))]
        entries[1][1].id = "chosen"
        ids = yield self.store.appendMany(entries)
        self.assertEqual(ids[1], "chosen")
        self.assertEqual([m.id for _, m in entries], ids)
        page = yield self.store.query(ALICE)
        self.assertEqual([m.id for m in page.items], [ids[0], ids[2]])
        stored = yield self.store.get(ROOM, "chosen")
        self.assertEqual(stored.xml, entries[1][1].xml)

    @defer.inlineCallbacks
    def test_callerChosenId(self):
        """A message appended with its id already set is archived under that id."""
        chosen = message(1)
        chosen.id = "chosenbythecaller"
        archiveId = yield self.store.append(ALICE, chosen)
        self.assertEqual(archiveId, "chosenbythecaller")
        stored = yield self.store.get(ALICE, "chosenbythecaller")
        self.assertEqual(stored.xml, chosen.xml)

    @defer.inlineCallbacks
    def test_stampDefaultsToNow(self):
        """A message without a stamp is archived at the current time."""
        before = time.time()
        archiveId = yield self.store.append(ALICE, ArchivedMessage("bob@example.com", "in", "<m/>"))
        stored = yield self.store.get(ALICE, archiveId)
        self.assertTrue(before <= stored.stamp <= time.time())

    @defer.inlineCallbacks
    def test_getUnknown(self):
        """get of an unknown id, or of another owner's message, is None."""
        [archiveId] = yield self.fill(1)
        self.assertIsNone((yield self.store.get(ALICE, "nope")))
        self.assertIsNone((yield self.store.get(ROOM, archiveId)))

    @defer.inlineCallbacks
    def test_returnedCopies(self):
        """Changing a returned message does not change the archived one."""
        [archiveId] = yield self.fill(1)
        page = yield self.store.query(ALICE)
        page.items[0].xml = "<changed/>"
        self.assertEqual((yield self.store.get(ALICE, archiveId)).xml, message(0).xml)

    @defer.inlineCallbacks
    def test_queryAll(self):
        """Without paging a query returns the whole archive oldest first, complete."""
        ids = yield self.fill(4)
        yield self.assertPage(ids, complete=True, count=4, index=0)

    @defer.inlineCallbacks
    def test_queryEmpty(self):
        """An empty archive gives an empty, complete page with no first or last."""
        page = yield self.assertPage([], complete=True, count=0)
        self.assertIsNone(page.index)

    @defer.inlineCallbacks
    def test_pageForwards(self):
        """Paging with max and after walks the archive from the oldest; the last page is complete."""
        ids = yield self.fill(7)
        page = yield self.assertPage(ids[0:3], complete=False, count=7, index=0, max=3)
        page = yield self.assertPage(ids[3:6], complete=False, count=7, index=3, max=3,
                                     after=page.last)
        page = yield self.assertPage(ids[6:], complete=True, count=7, index=6, max=3,
                                     after=page.last)

    @defer.inlineCallbacks
    def test_exactLastPage(self):
        """A page that ends exactly at the last message is complete."""
        ids = yield self.fill(6)
        yield self.assertPage(ids[3:], complete=True, count=6, max=3, after=ids[2])

    @defer.inlineCallbacks
    def test_lastPage(self):
        """An empty before asks for the last page (XEP-0059 section 2.5)."""
        ids = yield self.fill(7)
        yield self.assertPage(ids[4:], complete=False, count=7, index=4, max=3, before="")

    @defer.inlineCallbacks
    def test_pageBackwards(self):
        """Paging with before walks back to the oldest message; the first page is complete."""
        ids = yield self.fill(7)
        page = yield self.assertPage(ids[1:4], complete=False, count=7, index=1, max=3,
                                     before=ids[4])
        yield self.assertPage(ids[0:1], complete=True, count=7, index=0, max=3,
                              before=page.first)

    @defer.inlineCallbacks
    def test_flipPage(self):
        """flip returns the page newest first; first and last name the ends as returned."""
        ids = yield self.fill(7)
        page = yield self.assertPage(ids[6:3:-1], complete=False, count=7, index=4, max=3,
                                     before="", flip=True)
        self.assertEqual((page.first, page.last), (ids[6], ids[4]))

    @defer.inlineCallbacks
    def test_maxZero(self):
        """max 0 returns only the count of matching messages."""
        yield self.fill(3)
        yield self.assertPage([], complete=False, count=3, max=0)

    @defer.inlineCallbacks
    def test_withBareJID(self):
        """with a bare JID matches every resource of that peer (XEP-0313 section 4.1.1)."""
        phone = yield self.store.append(ALICE, message(0, peer="bob@example.com/phone"))
        yield self.store.append(ALICE, message(1, peer="carol@example.com/x"))
        laptop = yield self.store.append(ALICE, message(2, peer="bob@example.com/laptop"))
        bare = yield self.store.append(ALICE, message(3, peer="bob@example.com"))
        yield self.assertPage([phone, laptop, bare], complete=True, count=3,
                              with_="bob@example.com")

    @defer.inlineCallbacks
    def test_withFullJID(self):
        """with a full JID matches only that full peer."""
        phone = yield self.store.append(ALICE, message(0, peer="bob@example.com/phone"))
        yield self.store.append(ALICE, message(1, peer="bob@example.com/laptop"))
        yield self.store.append(ALICE, message(2, peer="bob@example.com"))
        yield self.assertPage([phone], complete=True, count=1,
                              with_="bob@example.com/phone")

    @defer.inlineCallbacks
    def test_roomArchive(self):
        """A room's archive is kept apart from users' and filtered by occupant JID."""
        nick = yield self.store.append(ROOM, message(0, peer=ROOM + "/nick"))
        yield self.store.append(ROOM, message(1, peer=ROOM + "/other"))
        yield self.fill(2)
        page = yield self.store.query(ROOM, with_=ROOM + "/nick")
        self.assertEqual([m.id for m in page.items], [nick])
        self.assertEqual((yield self.store.countOwner(ROOM)), 2)

    @defer.inlineCallbacks
    def test_startEnd(self):
        """start and end bound the stamps, both inclusive (XEP-0313 section 4.1.2)."""
        ids = yield self.fill(6)
        yield self.assertPage(ids[2:5], complete=True, count=3, start=1002.0, end=1004.0)
        yield self.assertPage(ids[4:], complete=True, count=2, start=1004.0)
        yield self.assertPage(ids[:2], complete=True, count=2, end=1001.0)

    @defer.inlineCallbacks
    def test_filtersAndPaging(self):
        """Paging applies inside the filters: count, index and complete refer to the matches."""
        ids = []
        for n in range(8):
            ids.append((yield self.store.append(ALICE, message(
                n, peer="bob@example.com" if n % 2 else "carol@example.com"))))
        bob = ids[1::2]
        page = yield self.assertPage(bob[:2], complete=False, count=4, index=0, max=2,
                                     with_="bob@example.com")
        yield self.assertPage(bob[2:], complete=True, count=4, index=2, max=2,
                              with_="bob@example.com", after=page.last)
        yield self.assertPage([bob[3]], complete=False, count=4, index=3, max=1,
                              with_="bob@example.com", before="")

    @defer.inlineCallbacks
    def test_idsFilter(self):
        """ids selects those messages in archive order; ids not in the archive are left out."""
        ids = yield self.fill(5)
        yield self.assertPage([ids[1], ids[3]], complete=True, count=2,
                              ids=[ids[3], "unknown", ids[1]])
        yield self.assertPage([], complete=True, count=0, ids=[])

    @defer.inlineCallbacks
    def test_afterIdBeforeId(self):
        """afterId and beforeId bound the matches, both exclusive."""
        ids = yield self.fill(6)
        yield self.assertPage(ids[2:], complete=True, count=4, afterId=ids[1])
        yield self.assertPage(ids[:3], complete=True, count=3, beforeId=ids[3])
        yield self.assertPage(ids[2:4], complete=True, count=2, afterId=ids[1],
                              beforeId=ids[4])

    @defer.inlineCallbacks
    def test_unknownIds(self):
        """An unknown id to page or bound from fails with UnknownArchiveId."""
        yield self.fill(2)
        for query in ({"after": "unknown"}, {"before": "unknown"},
                      {"afterId": "unknown"}, {"beforeId": "unknown"}):
            yield self.assertFailure(self.store.query(ALICE, **query), UnknownArchiveId)

    @defer.inlineCallbacks
    def test_unknownIdNoMatches(self):
        """An unknown id to page from fails even when the filters match nothing."""
        yield self.fill(2)
        yield self.assertFailure(self.store.query(ALICE, with_="nobody@example.com",
                                                  after="unknown"), UnknownArchiveId)
        yield self.assertFailure(self.store.query(ALICE, ids=[], before="unknown"),
                                 UnknownArchiveId)

    @defer.inlineCallbacks
    def test_otherOwnersId(self):
        """An id from another owner's archive is unknown in this one."""
        [roomId] = yield self.fill(1, owner=ROOM)
        yield self.fill(2)
        yield self.assertFailure(self.store.query(ALICE, after=roomId), UnknownArchiveId)

    @defer.inlineCallbacks
    def test_count(self):
        """countOwner counts one owner's messages."""
        yield self.fill(3)
        yield self.fill(2, owner=ROOM)
        self.assertEqual((yield self.store.countOwner(ALICE)), 3)
        self.assertEqual((yield self.store.countOwner("nobody@example.com")), 0)

    @defer.inlineCallbacks
    def test_expire(self):
        """expire deletes every owner's messages older than the time, keeping those at it."""
        ids = yield self.fill(5)
        yield self.fill(5, owner=ROOM)
        self.assertEqual((yield self.store.expire(1003.0)), 6)
        yield self.assertPage(ids[3:], complete=True, count=2)
        self.assertEqual((yield self.store.countOwner(ROOM)), 2)
        self.assertEqual((yield self.store.expire(1003.0)), 0)

    @defer.inlineCallbacks
    def test_trim(self):
        """trim keeps the newest messages of one owner and reports how many went."""
        ids = yield self.fill(5)
        yield self.fill(3, owner=ROOM)
        self.assertEqual((yield self.store.trim(ALICE, 2)), 3)
        yield self.assertPage(ids[3:], complete=True, count=2)
        self.assertEqual((yield self.store.trim(ALICE, 2)), 0)
        self.assertEqual((yield self.store.trim(ALICE, 10)), 0)
        self.assertEqual((yield self.store.countOwner(ROOM)), 3)
        self.assertEqual((yield self.store.trim(ROOM, 0)), 3)
        self.assertEqual((yield self.store.countOwner(ROOM)), 0)

    @defer.inlineCallbacks
    def test_pagingAfterTrim(self):
        """Ids of the messages left after trimming still page correctly."""
        ids = yield self.fill(6)
        yield self.store.trim(ALICE, 4)
        yield self.assertPage(ids[3:5], complete=False, count=4, index=1, max=2, after=ids[2])
        yield self.assertFailure(self.store.query(ALICE, after=ids[0]), UnknownArchiveId)

    @defer.inlineCallbacks
    def test_removeOwner(self):
        """removeOwner deletes the archive and the preferences, and nothing of other owners."""
        yield self.fill(3)
        yield self.fill(2, owner=ROOM)
        yield self.store.setPreferences(ALICE, ArchivePreferences("never"))
        yield self.store.setPreferences(ROOM, ArchivePreferences("always"))
        yield self.store.removeOwner(ALICE)
        self.assertEqual((yield self.store.countOwner(ALICE)), 0)
        self.assertIsNone((yield self.store.getPreferences(ALICE)))
        self.assertEqual((yield self.store.countOwner(ROOM)), 2)
        self.assertEqual((yield self.store.getPreferences(ROOM)).default, "always")

    @defer.inlineCallbacks
    def test_preferencesUnset(self):
        """An owner who never set preferences has None."""
        self.assertIsNone((yield self.store.getPreferences(ALICE)))

    @defer.inlineCallbacks
    def test_preferences(self):
        """Preferences come back as set, and setting them again replaces them."""
        prefs = ArchivePreferences("roster", always=["bob@example.com"],
                                   never=["spam@example.com", "ads@example.com"])
        yield self.store.setPreferences(ALICE, prefs)
        self.assertEqual((yield self.store.getPreferences(ALICE)), prefs)
        yield self.store.setPreferences(ALICE, ArchivePreferences("never"))
        self.assertEqual((yield self.store.getPreferences(ALICE)), ArchivePreferences("never"))

    @defer.inlineCallbacks
    def test_preferenceOwners(self):
        """preferenceOwners names exactly the owners with preferences, until removed."""
        self.assertEqual((yield self.store.preferenceOwners()), set())
        yield self.store.setPreferences(ALICE, ArchivePreferences("never"))
        yield self.store.setPreferences(ROOM, ArchivePreferences("always"))
        yield self.store.removeOwner(ROOM)
        self.assertEqual((yield self.store.preferenceOwners()), {ALICE})


class MemoryArchiveTests(ArchiveStoreTestsMixin, unittest.TestCase):
    """The archive store in memory."""

    def makeStore(self):
        return MemoryArchiveStore()


class SQLiteArchiveTests(SQLiteDatabaseMixin, ArchiveStoreTestsMixin, unittest.TestCase):
    """The archive store on an SQLite file."""

    def makeStore(self):
        return SQLArchiveStore(self.openDatabase())

    @defer.inlineCallbacks
    def test_appendCommitted(self):
        """When append's Deferred fires, the message is committed: another connection sees it."""
        yield self.fill(2)
        self.assertEqual(self.countCommitted("archive_messages"), 2)

    @defer.inlineCallbacks
    def test_survivesReopen(self):
        """Messages and preferences are there after closing and opening the database again."""
        ids = yield self.fill(3)
        yield self.store.setPreferences(ALICE, ArchivePreferences("roster", ["bob@example.com"]))
        yield self.store.database.close()
        self.store = self.makeStore()
        yield self.assertPage(ids, complete=True, count=3)
        self.assertEqual((yield self.store.getPreferences(ALICE)),
                         ArchivePreferences("roster", ["bob@example.com"]))


class PostgreSQLArchiveTests(PostgreSQLDatabaseMixin, ArchiveStoreTestsMixin,
                             unittest.TestCase):
    """The archive store on PostgreSQL."""

    def makeStore(self):
        return SQLArchiveStore(self.openDatabase())
