# -*- test-case-name: tests.components.conference.test_muc_persistence -*-
"""
The Multi-User Chat service (XEP-0045 section 4.1, "MUC service"): the
rooms of one component domain, their creation and disposal, persistence
of persistent rooms (section 4.2), and the service-wide options.

The service is shared by the protocol handlers attached to the
component's L{jabberd.host.Host}; it knows rooms, the room store and the
rooms' archives (L{components.conference.archive}), not XML (except the
shutdown presence of section 7.14 / status 332).

A persistent room's occupant-id secret (XEP-0421) is stored with its
configuration, under L{SECRET_KEY}, so its occupant ids outlive restarts.
"""

from dataclasses import dataclass, field

from twisted.internet import defer

from jabberd.logs import Logger

from jabberd.config import Section
from jabberd.handler import Handler
from jabberd.storage.memory.archive import MemoryArchiveStore
from components.conference.archive import RoomArchive
from components.conference.roles import OWNER
from components.conference.room import MUCError, Room
from components.conference.roomconfig import RoomConfig
from components.conference import legacypresence, stanzas

__all__ = ["ServiceOptions", "parseOptions", "MUCService", "StartupGate", "SECRET_KEY"]

#: The key of a stored room configuration holding the room's occupant-id secret.
SECRET_KEY = "occupant_id_secret"


@dataclass
class ServiceOptions:
    """
    The C{[component:DOMAIN]} keys of the conference component.

    @ivar historyDefault: history messages sent on entering, unless the
        client or the room asks otherwise (C{history_default}).
    @ivar maxHistory: messages kept per room (C{max_history}).
    @ivar admins: bare JIDs owning every room (C{admins}).
    @ivar roomCreation: C{anyone} or C{admins} (C{room_creation}).
    @ivar database: the rooms' database URL, if not the server's
        (C{database}).
    @ivar archive: whether new rooms archive their messages (XEP-0313,
        C{archive}); each room may turn it off in its configuration.
    @ivar archiveMaxPage: the most messages one query of a room's archive
        returns (C{archive_max_page}, at least 1).
    @ivar archiveMaxPerRoom: the most messages kept per room, 0 for no
        bound (C{archive_max_per_room}), enforced at each sweep.
    @ivar archiveSweepInterval: seconds between sweeps
        (C{archive_sweep_interval}).
    @ivar maxLegacyPerRoom, maxLegacyTotal, maxLegacyBytes: the bounds of
        L{components.conference.legacypresence.LegacyPresences}.
    """

    name: str = "Chatrooms"
    historyDefault: int = 20
    maxHistory: int = 50
    maxUsers: int = 0
    admins: tuple = ()
    roomCreation: str = "anyone"
    database: str = ""
    archive: bool = True
    archiveMaxPage: int = 100
    archiveMaxPerRoom: int = 10000
    archiveSweepInterval: int = 600
    extra: dict = field(default_factory=dict)
    maxLegacyPerRoom: int = legacypresence.DEFAULT_PER_ROOM
    maxLegacyTotal: int = legacypresence.DEFAULT_TOTAL
    maxLegacyBytes: int = legacypresence.DEFAULT_ENTRY_BYTES


#: The keys L{parseOptions} reads; the others are kept in C{extra}.
_KEYS = frozenset(("name", "history_default", "max_history", "max_users", "admins",
                   "room_creation", "database", "archive", "archive_max_page",
                   "archive_max_per_room", "archive_sweep_interval",
                   "max_legacy_presences_per_room", "max_legacy_presences",
                   "max_legacy_presence_bytes"))


def parseOptions(domain, options):
    """Read the component section's C{options}; a bad value names its key."""
    section = Section("component:" + domain, dict(options or {}))
    maxHistory = section.int("max_history", 50)
    return ServiceOptions(
        name=section.str("name", "Chatrooms") or "Chatrooms",
        historyDefault=min(section.int("history_default", 20), maxHistory),
        maxHistory=maxHistory,
        maxUsers=section.int("max_users", 0),
        admins=tuple(a.lower() for a in section.list("admins", ())),
        roomCreation=section.choice("room_creation", "anyone", ("anyone", "admins")),
        database=section.str("database", ""),
        archive=section.bool("archive", True),
        archiveMaxPage=max(section.int("archive_max_page", 100), 1),
        archiveMaxPerRoom=section.int("archive_max_per_room", 10000),
        archiveSweepInterval=section.int("archive_sweep_interval", 600),
        maxLegacyPerRoom=section.int("max_legacy_presences_per_room",
                                     legacypresence.DEFAULT_PER_ROOM) or 1,
        maxLegacyTotal=section.int("max_legacy_presences", legacypresence.DEFAULT_TOTAL) or 1,
        maxLegacyBytes=section.int("max_legacy_presence_bytes",
                                   legacypresence.DEFAULT_ENTRY_BYTES),
        extra={key: value for key, value in section.values.items() if key not in _KEYS},
    )


class MUCService:
    """
    @ivar rooms: room JID -> L{Room}.
    @ivar ready: persistent rooms are loaded; until then stanzas wait.
    @ivar started: the Deferred of L{start}, firing once they are.
    @ivar archive: the rooms' L{RoomArchive} (XEP-0313), in the server's
        archive store, or in memory when there is none (tests).
    @ivar legacyPresence: (room JID, real JID) -> presence children sent
        to the bare room JID by a C{jabber:iq:conference} client before
        its iq set (the old "availability" step), bounded
        (L{components.conference.legacypresence}).
    """

    log = Logger()

    def __init__(self, host, store, options=None, archive=None):
        self.host = host
        self.domain = host.domain
        self.store = store
        self.options = options or ServiceOptions()
        self.rooms = {}
        # Called with a room's JID when it is no longer here (destroyed, or
        # a temporary room emptied): a cluster releases its claim.
        self.roomGoneHooks = []
        self.ready = False
        self.pending = []
        self.legacyPresence = legacypresence.LegacyPresences(
            self.options.maxLegacyPerRoom, self.options.maxLegacyTotal,
            self.options.maxLegacyBytes)
        self.started = None
        if archive is None:
            archive = RoomArchive.fromOptions(MemoryArchiveStore(), self.options,
                                              sweepInterval=0)
        self.archive = archive

    def send(self, stanza):
        """Send C{stanza} out through the host."""
        self.host.send(stanza)

    # rooms

    def room(self, roomJid):
        """The room C{roomJid}, or None."""
        return self.rooms.get(roomJid)

    def newConfig(self):
        """The configuration a new room starts with."""
        return RoomConfig(maxHistory=self.options.historyDefault,
                          maxUsers=self.options.maxUsers, archiving=self.options.archive)

    def makeRoom(self, roomJid, config=None, secret=None):
        """A L{Room} of this service, not yet registered."""
        return Room(roomJid, config or self.newConfig(), self.options.maxHistory,
                    self.options.admins, secret)

    def createRoom(self, roomJid, creator, locked=True):
        """
        Create the room C{roomJid} owned by the bare JID C{creator}
        (section 10.1); locked until configured unless C{locked} is false
        (groupchat 1.0 creators get an instant room).
        """
        if self.options.roomCreation == "admins" and creator not in self.options.admins:
            raise MUCError("not-allowed", "room creation is restricted")
        room = self.makeRoom(roomJid)
        room.affiliations[creator] = OWNER
        room.locked = locked
        self.rooms[roomJid] = room
        return room

    def discardRoom(self, room):
        """Forget C{room} (destroyed), and its stored state if persistent."""
        if self.rooms.get(room.jid) is room:
            del self.rooms[room.jid]
            self._gone(room)
        if room.config.persistent:
            self._watch(self.store.deleteRoom(room.jid))
        self.archive.forget(room)

    def occupantLeft(self, room):
        """A temporary room vanishes with its last occupant (section 4.2), and its archive."""
        if room.empty and not room.config.persistent and self.rooms.get(room.jid) is room:
            del self.rooms[room.jid]
            self.archive.forget(room)
            self._gone(room)

    def _gone(self, room):
        for hook in self.roomGoneHooks:
            hook(room.jid)

    def visibleRooms(self):
        """Public, unlocked rooms, by JID (section 6.3)."""
        return [room for _jid, room in sorted(self.rooms.items())
                if room.config.public and not room.locked]

    # persistence

    def persist(self, room):
        """Store C{room}'s configuration, all its affiliations and its subject."""
        affiliations = {bare: (a, room.reasons.get(bare, ""))
                        for bare, a in room.affiliations.items()}
        config = dict(room.config.toDict(), **{SECRET_KEY: room.secret})
        self._watch(self.store.saveRoom(room.jid, config, affiliations))
        if room.subject is not None:
            self.persistSubject(room)

    def persistSubject(self, room):
        """Store the subject of a persistent room (section 8.1), so a restart keeps it."""
        if room.config.persistent:
            self._watch(self.store.setSubject(room.jid, room.subject, room.subjectFrom))

    def forget(self, room):
        """C{room} is no longer persistent: drop its stored state."""
        self._watch(self.store.deleteRoom(room.jid))

    def persistAffiliation(self, room, bare, affiliation, reason=""):
        """Store one affiliation change of a persistent room."""
        if room.config.persistent:
            self._watch(self.store.setAffiliation(room.jid, bare, affiliation, reason))

    def _watch(self, d):
        d.addErrback(lambda f: self.log.failure("room store write failed", f))
        return d

    def start(self):
        """
        Load the persistent rooms and their join history (from their
        archives); stanzas arriving meanwhile wait.
        """
        d = self.started = self.store.loadRooms()
        d.addCallback(self._loaded)
        d.addCallbacks(lambda _: self._open(), self._loadFailed)
        return d

    def refresh(self):
        """
        Read the persistent rooms again (in a cluster, a node that died held
        some of them, and they may come here): a room nobody occupies here
        takes its stored configuration, affiliations, subject and history.
        """
        d = self.store.loadRooms()
        d.addCallback(self._loaded, keepOccupied=True)
        d.addErrback(self._loadFailed)
        return d

    def _loaded(self, stored, keepOccupied=False):
        histories = []
        for entry in stored:
            current = self.rooms.get(entry.jid)
            if keepOccupied and current is not None and not current.empty:
                continue
            secret = entry.config.get(SECRET_KEY)
            room = self.makeRoom(entry.jid, RoomConfig.fromDict(entry.config), secret)
            for bare, (affiliation, reason) in entry.affiliations.items():
                room.affiliations[bare] = affiliation
                room.reasons[bare] = reason
            if entry.subject is not None:
                room.subject, room.subjectFrom = entry.subject, entry.subjectFrom or room.jid
            self.rooms[room.jid] = room
            if not secret:
                self.persist(room)  # stored before occupant ids: keep the new secret
            histories.append(self.archive.loadHistory(room))
        return defer.gatherResults(histories)

    def _loadFailed(self, failure):
        self.log.failure("cannot load persistent rooms", failure)
        self._open()

    def _open(self):
        self.ready = True
        pending, self.pending = self.pending, []
        for stanza in pending:
            self.host.receive(stanza)

    def shutdown(self):
        """
        Tell every occupant the service is going away (status 332,
        section 7.14), forget temporary rooms, and close the store once
        every archived message is stored.
        """
        for room in list(self.rooms.values()):
            for occupant in room.removeAll():
                presence = stanzas.occupantPresence(occupant, True, ("110", "332"),
                                                    unavailable=True, children=[])
                self.send(stanzas.stamped(presence, occupant.jid))
            self.occupantLeft(room)
        d = self.archive.stop()
        d.addBoth(lambda _: self.store.close())
        return d


class StartupGate(Handler):
    """
    First in the handler list: holds stanzas until the persistent rooms
    are loaded, so nobody creates a room that exists in the store.
    """

    def __init__(self, service):
        self.service = service

    def onInbound(self, stanza):
        if self.service.ready:
            return False
        self.service.pending.append(stanza)
        return True
