"""
Tests for persistence across restarts (components.conference.service with
the SQL store): a fresh host on the same SQLite file finds the persistent
rooms, their configuration and affiliations; temporary rooms are gone.
"""

import os

from twisted.internet import defer
from twisted.trial import unittest

from tests.components.conference.muchelpers import OWNER, ROOM, Conference, errorCondition


class PersistenceTests(unittest.TestCase):

    def setUp(self):
        self.database = "sqlite:///" + os.path.join(self.mktemp(), "jabberd.db")

    @defer.inlineCallbacks
    def start(self):
        """A conference host on the test database, its rooms loaded."""
        c = Conference(database=self.database)
        yield c.host.muc.started
        self.addCleanup(c.service.store.close)
        return c

    @defer.inlineCallbacks
    def test_roomsAndAffiliationsSurviveRestart(self):
        """A persistent room's configuration and affiliations are reloaded by a fresh host."""
        c = yield self.start()
        c.createConfigured({"muc#roomconfig_persistentroom": "1",
                            "muc#roomconfig_roomname": "Kitchen",
                            "muc#roomconfig_membersonly": "1"})
        c.admin(OWNER, "<item affiliation='member' jid='bob@localhost'/>"
                       "<item affiliation='outcast' jid='eve@localhost'>"
                       "<reason>spam</reason></item>")
        c.createInstant(room="temp@conference.localhost")
        yield c.service.store.flush()

        fresh = yield self.start()
        room = fresh.room()
        self.assertIsNotNone(room)
        self.assertEqual((room.config.name, room.config.membersOnly), ("Kitchen", True))
        self.assertEqual(room.affiliationOf("owner@localhost"), "owner")
        self.assertEqual(room.affiliationOf("bob@localhost"), "member")
        self.assertEqual(room.listAffiliation("outcast"), [("eve@localhost", "spam")])
        self.assertIsNone(fresh.room("temp@conference.localhost"))
        self.assertFalse(room.locked)

    @defer.inlineCallbacks
    def test_subjectSurvivesRestart(self):
        """A persistent room's subject comes back after a restart and is sent to a new occupant."""
        c = yield self.start()
        c.createConfigured({"muc#roomconfig_persistentroom": "1"})
        c.send(f"<message from='{OWNER}' to='{ROOM}' type='groupchat'>"
               "<subject>Lunch at noon</subject></message>")
        c.createInstant(room="temp@conference.localhost")
        c.send(f"<message from='{OWNER}' to='temp@conference.localhost' type='groupchat'>"
               "<subject>gone</subject></message>")
        yield c.service.store.flush()

        fresh = yield self.start()
        self.assertEqual((fresh.room().subject, fresh.room().subjectFrom),
                         ("Lunch at noon", ROOM + "/owner"))
        out = fresh.join("bob@localhost/b", "bob")
        subjects = [el for el in out if el.name == "message" and el.subject is not None]
        self.assertEqual([(str(el.subject), el["from"]) for el in subjects],
                         [("Lunch at noon", ROOM + "/owner")])

    @defer.inlineCallbacks
    def test_subjectOfRoomMadePersistentLater(self):
        """A subject set while the room was temporary is stored when it becomes persistent."""
        c = yield self.start()
        c.createInstant()
        c.send(f"<message from='{OWNER}' to='{ROOM}' type='groupchat'>"
               "<subject>Before</subject></message>")
        c.submitConfig(OWNER, {"muc#roomconfig_persistentroom": "1"})
        yield c.service.store.flush()

        fresh = yield self.start()
        self.assertEqual(fresh.room().subject, "Before")

    @defer.inlineCallbacks
    def test_reloadedRoomEnforcesItsRules(self):
        """After a restart a banned user is still refused and a member admitted."""
        c = yield self.start()
        c.createConfigured({"muc#roomconfig_persistentroom": "1"})
        c.admin(OWNER, "<item affiliation='outcast' jid='eve@localhost'/>")
        yield c.service.store.flush()

        fresh = yield self.start()
        self.assertEqual(errorCondition(fresh.join("eve@localhost/e", "eve")[0]), "forbidden")
        out = fresh.join("bob@localhost/b", "bob")
        self.assertEqual(out[-2]["from"], ROOM + "/bob")

    @defer.inlineCallbacks
    def test_destroyedRoomIsForgotten(self):
        """A destroyed persistent room does not come back."""
        c = yield self.start()
        c.createConfigured({"muc#roomconfig_persistentroom": "1"})
        c.send(f"<iq type='set' id='d' from='{OWNER}' to='{ROOM}'>"
               "<query xmlns='http://jabber.org/protocol/muc#owner'><destroy/></query></iq>")
        yield c.service.store.flush()
        fresh = yield self.start()
        self.assertIsNone(fresh.room())

    @defer.inlineCallbacks
    def test_stanzasWaitForLoading(self):
        """Stanzas arriving before the rooms are loaded are handled once they are."""
        c = Conference(database=self.database)
        self.addCleanup(c.service.store.close)
        c.send("<presence from='bob@localhost/b' to='room@conference.localhost/bob'/>")
        self.assertEqual(c.sent, [])
        yield c.host.muc.started
        self.assertTrue(any(s["to"] == "bob@localhost/b" for s in c.take()))
