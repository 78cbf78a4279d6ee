# -*- test-case-name: tests.components.conference.test_muc_archive -*-
"""
A room's message archive (XEP-0313 for MUC rooms; XEP-0359 stanza-ids),
kept in the server's L{jabberd.storage.interfaces.IArchiveStore} with the
room JID as the owner: archiving, the join history of persistent rooms,
retention.  Queries are L{components.conference.mam}'s.

 - What is archived: a groupchat message with a body that the room
   reflects to its occupants, as reflected (from the occupant JID, with
   its occupant id); not subject changes, not private messages (XEP-0313,
   "MUC archives": the room's archive holds what the room sent to all).
   The message carries C{<stanza-id by='room@service' id=.../>} (XEP-0359
   section 3, XEP-0045 "stanza-id" in discussion history), the id the
   archive returns; a client's own stanza-id claiming the room was
   removed first (L{components.conference.message.occupantMessage}).
 - Only while the room's C{muc#roomconfig_enablearchiving} is on; a
   room that is destroyed, or a temporary room that vanishes, takes its
   archive with it, so a new room of that name never shows it.
 - Join history of a persistent room survives restarts: when the service
   loads the persistent rooms it fills each archiving room's history
   (XEP-0045 section 7.2, "Discussion History") from the newest messages
   of its archive, before any stanza is served.
 - Writes are group commits (L{jabberd.mam.writer}): reflecting never
   waits for storage, and a query waits for the writes issued before it.
 - Retention: C{archive_max_per_room} messages per room, enforced by a
   periodic sweep; the age bound is the store's, C{[archive] expire_after}
   (every archive of the server's store, rooms' included).
"""

from twisted.internet import defer, task

from jabberd.logs import Logger
from jabberd.mam.ids import originId, stampStanzaId
from jabberd.mam.writer import GroupCommit
from jabberd.stanza import firstChild, parseElement, serializeElement
from jabberd.storage.records import ArchivedMessage, randomId

__all__ = ["RoomArchive"]


class RoomArchive:
    """
    The archives of a conference service's rooms.

    @ivar store: the L{jabberd.storage.interfaces.IArchiveStore}.
    @ivar maxPage: the most messages one query returns.
    @ivar maxPerRoom: messages kept per room (0: no bound).
    @ivar sweepInterval: seconds between retention sweeps.
    """

    log = Logger()

    def __init__(self, store, maxPage=100, maxPerRoom=10000, sweepInterval=600, clock=None):
        self.store = store
        self.maxPage = maxPage
        self.maxPerRoom = maxPerRoom
        self.sweepInterval = sweepInterval
        self.clock = clock
        self.writer = GroupCommit(lambda: self.store)
        self._appended = set()
        self._sweeper = None
        # removals of archives under way, which stopping waits for
        self._removing = set()
        # rooms that may have an archive: archived to since start-up, or loaded
        self._owners = set()

    @classmethod
    def fromOptions(cls, store, options, **kwargs):
        """The archive for the service's L{ServiceOptions}; C{kwargs} override them."""
        values = dict(maxPage=options.archiveMaxPage, maxPerRoom=options.archiveMaxPerRoom,
                      sweepInterval=options.archiveSweepInterval)
        values.update(kwargs)
        return cls(store, **values)

    # archiving

    def record(self, room, template, occupant):
        """
        Archive the reflected groupchat message C{template} sent by
        C{occupant}, if the room archives and it has a body, and stamp
        the archive id on it; return the id, or None.
        """
        if not room.config.archiving or firstChild(template, name="body") is None:
            return None
        message = ArchivedMessage(
            peer=occupant.occupantJid, direction="in", xml=serializeElement(template),
            type="groupchat", originId=originId(template),
            messageId=template.getAttribute("id") or "", id=randomId())
        stampStanzaId(template, room.jid, message.id)
        if self.maxPerRoom:
            self._appended.add(room.jid)
        self._owners.add(room.jid)
        self.writer.write(room.jid, message)
        return message.id

    def committed(self):
        """A Deferred firing once every message archived so far is stored."""
        return self.writer.committed()

    def forget(self, room):
        """
        C{room} is gone (destroyed, or temporary and empty): so is its
        archive, if it may have one (a room that never archived costs no
        write).
        """
        self._appended.discard(room.jid)
        if room.jid not in self._owners:
            return defer.succeed(None)
        self._owners.discard(room.jid)
        d = self.committed()
        d.addCallback(lambda _: self.store.removeOwner(room.jid))
        d.addErrback(self._failed, "removing the archive of {room} failed", room=room.jid)
        self._removing.add(d)
        d.addBoth(lambda _: self._removing.discard(d))
        return d

    # join history

    def loadHistory(self, room):
        """
        Fill C{room}'s discussion history from the newest messages of its
        archive (a persistent room after a restart); a Deferred.
        """
        self._owners.add(room.jid)
        if not room.config.archiving or room.history.size <= 0:
            return defer.succeed(None)
        d = self.store.query(room.jid, max=room.history.size, before="")
        d.addCallback(self._fill, room)
        d.addErrback(self._failed, "cannot read the history of {room}", room=room.jid)
        return d

    def _fill(self, page, room):
        room.history.clear()
        for item in page.items:
            try:
                stanza = parseElement(item.xml)
            except ValueError:
                self.log.error("unreadable archived message {id} of {room}", id=item.id,
                               room=room.jid)
                continue
            stampStanzaId(stanza, room.jid, item.id)
            room.history.add(stanza, item.stamp)

    # retention

    def start(self):
        """Start the periodic sweep, if there is a bound to enforce."""
        if not (self.maxPerRoom and self.sweepInterval):
            return
        if self.clock is None:
            from twisted.internet import reactor
            self.clock = reactor
        self._sweeper = task.LoopingCall(self.sweep)
        self._sweeper.clock = self.clock
        self._sweeper.start(self.sweepInterval, now=False).addErrback(
            self._failed, "room archive sweeps stopped")

    @defer.inlineCallbacks
    def sweep(self):
        """Trim the rooms archived to since the last sweep to C{maxPerRoom} messages."""
        rooms, self._appended = self._appended, set()
        try:
            yield self.committed()
            for jid in sorted(rooms):
                yield self.store.trim(jid, self.maxPerRoom)
        except Exception:
            self.log.failure("room archive sweep failed")

    def stop(self):
        """
        Stop sweeping; a Deferred firing once the archived messages are
        stored and the archives of rooms that went are removed.
        """
        if self._sweeper is not None and self._sweeper.running:
            self._sweeper.stop()
        self._sweeper = None
        return defer.DeferredList([self.committed(), *self._removing])

    def _failed(self, failure, message, **kwargs):
        self.log.failure(message, failure, **kwargs)
