# -*- test-case-name: tests.components.conference.test_muc_join -*-
"""
Presence to rooms (XEP-0045 section 7.2 entering, 7.6 changing nick, 7.7
presence updates, 7.14 exiting) and room creation by entering (section
10.1).

COMPAT: groupchat 1.0 (XEP-0045 section 7.2): presence to
C{room@service/nick} without the MUC C{<x/>} enters too, and a room
created that way is an instant room, never locked (section 10.1).
Presence to the bare room JID without C{<x/>} is the first step of the
old C{jabber:iq:conference} join (see L{components.conference.legacy}).
"""

import calendar
from datetime import datetime

from jabberd.handler import Handler
from jabberd.jidutil import bareOf, parseJID
from jabberd.ns import NS_MUC, NS_MUC_USER, NS_OCCUPANT_ID
from components.conference import occupancy, stanzas
from components.conference.history import HistoryRequest
from components.conference.room import MUCError

__all__ = ["PresenceHandler", "enterRoom", "broadcastChildren", "historyRequest"]


class PresenceHandler(Handler):
    """Every presence addressed to a room or an occupant JID."""

    def __init__(self, service):
        self.service = service

    def discoFeatures(self, target, node):
        return [NS_MUC] if stanzas.isServiceTarget(target, node) else []

    def roomDiscoFeatures(self, room):
        """Every room's presence carries occupant ids (XEP-0421 section 3, discovery)."""
        return [NS_OCCUPANT_ID]

    def onInbound(self, stanza):
        if stanza.name != "presence":
            return False
        address = stanzas.parseAddress(stanza.getAttribute("to"))
        sender = stanza.getAttribute("from")
        if address is None or not sender:
            return True
        roomJid, nick, raw = address
        kind = stanza.getAttribute("type")
        room = self.service.room(roomJid)
        if kind == "error":
            self.onErrorPresence(room, sender)
        elif kind in (None, "unavailable"):
            occupant = room.occupantByJid(sender) if room is not None else None
            if nick is None:
                self.onRoomPresence(stanza, room, occupant, roomJid, sender)
            elif kind == "unavailable":
                self.onUnavailable(stanza, room, occupant)
            elif occupant is None:
                enterRoom(self.service, stanza, roomJid, nick, raw, sender)
            elif occupant.nick != nick:
                self.onNickChange(stanza, room, occupant, nick, raw)
            else:
                self.onUpdate(stanza, room, occupant)
        return True

    def onUnavailable(self, stanza, room, occupant):
        """Section 7.14: the occupant leaves, with its status text."""
        if occupant is None:
            return
        room.remove(occupant)
        occupancy.announceExit(self.service, room, occupant, broadcastChildren(stanza))

    def onUpdate(self, stanza, room, occupant):
        """Section 7.7: new show/status, broadcast to all."""
        occupant.presence = broadcastChildren(stanza)
        occupancy.broadcastPresence(self.service, room, occupant)

    def onNickChange(self, stanza, room, occupant, nick, raw):
        """Section 7.6; a taken nick is a C{conflict} error presence."""
        try:
            occupancy.changeNick(self.service, room, occupant, nick,
                                 broadcastChildren(stanza), modified=raw != nick)
        except MUCError as e:
            self.service.send(stanzas.stanzaError(e).toResponse(stanza))

    def onRoomPresence(self, stanza, room, occupant, roomJid, sender):
        """
        Presence to the bare room JID: an occupant's presence update;
        from a MUC client a C{jid-malformed} error (no nick, section
        7.2); otherwise the availability step of C{jabber:iq:conference}.
        """
        if stanza.getAttribute("type") == "unavailable":
            self.service.legacyPresence.pop((roomJid, sender), None)
            if occupant is not None:
                self.onUnavailable(stanza, room, occupant)
        elif occupant is not None:
            self.onUpdate(stanza, room, occupant)
        elif stanzas.mucX(stanza) is not None:
            self.service.send(stanzas.stanzaError(
                MUCError("jid-malformed", "a nickname is required")).toResponse(stanza))
        else:
            self.service.legacyPresence.put(roomJid, sender, broadcastChildren(stanza))

    def onErrorPresence(self, room, sender):
        """
        An occupant's server bounced our presence: the occupant is gone
        (a ghost); the others learn it left for technical reasons (333).
        """
        occupant = room.occupantByJid(sender) if room is not None else None
        if occupant is None:
            return
        room.remove(occupant)
        occupancy.broadcastPresence(self.service, room, occupant, codes=("333",),
                                    unavailable=True, children=[], selfFirst=True)
        self.service.occupantLeft(room)


def enterRoom(service, stanza, roomJid, nick, raw, sender, legacy=None, password=None,
              children=None):
    """
    Enter (or create) C{roomJid} as C{nick} for the real JID C{sender}.

    On a refusal the room's L{MUCError} is raised after any room created
    for the attempt is discarded; the presence path turns it into an
    error presence, the C{jabber:iq:conference} path into an iq error.
    Returns the new occupant.
    """
    try:
        return _enter(service, stanza, roomJid, nick, raw, sender, legacy, password, children)
    except MUCError as e:
        if stanza.name != "presence":
            raise
        service.send(stanzas.stanzaError(e).toResponse(stanza))
        return None


def _enter(service, stanza, roomJid, nick, raw, sender, legacy, password, children):
    x = stanzas.mucX(stanza) if stanza.name == "presence" else None
    if legacy is None:
        legacy = x is None
    if password is None and x is not None:
        password = _text(stanzas.firstChild(x, NS_MUC, "password"))
    parsed = parseJID(sender)
    bare = parsed.userhost() if parsed is not None else bareOf(sender).lower()
    room = service.room(roomJid)
    created = room is None
    if created:
        room = service.createRoom(roomJid, bare, locked=not legacy)
    try:
        occupant = room.join(sender, bare, nick, password, legacy)
    except MUCError:
        if created:
            service.discardRoom(room)
        raise
    occupant.presence = broadcastChildren(stanza) if children is None else children
    codes = _selfCodes(room, created, raw is not None and raw != nick)
    occupancy.announceEntry(service, room, occupant, codes, historyRequest(x))
    return occupant


def _selfCodes(room, created, modified):
    codes = []
    if room.config.nonAnonymous:
        codes.append("100")
    if room.config.logging:
        codes.append("170")
    if created:
        codes.append("201")
    if modified:
        codes.append("210")
    return codes


def broadcastChildren(stanza):
    """
    The children of a presence the room repeats on the occupant's
    behalf: everything but the MUC extensions (show, status, priority,
    capabilities, ...); never a client's own occupant id (XEP-0421
    section 4).
    """
    return [child for child in stanza.elements()
            if child.uri not in (NS_MUC, NS_MUC_USER, NS_OCCUPANT_ID)]


def historyRequest(x):
    """
    The C{<history/>} limits of a MUC join (section 7.2, "Managing Discussion History"); absent or
    malformed attributes mean no limit from the client.
    """
    history = stanzas.firstChild(x, NS_MUC, "history") if x is not None else None
    if history is None:
        return HistoryRequest()
    return HistoryRequest(
        maxstanzas=_number(history.getAttribute("maxstanzas")),
        maxchars=_number(history.getAttribute("maxchars")),
        seconds=_number(history.getAttribute("seconds")),
        since=_timestamp(history.getAttribute("since")),
    )


def _number(value):
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number >= 0 else None


def _timestamp(value):
    """An XEP-0082 DateTime as a POSIX timestamp, or None."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return calendar.timegm(parsed.timetuple()) + parsed.microsecond / 1e6
    return parsed.timestamp()


def _text(element):
    return str(element) if element is not None else None
