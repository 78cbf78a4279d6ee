# -*- test-case-name: tests.components.conference.test_muc_legacy -*-
"""
COMPAT: the C{jabber:iq:conference} protocol of the jabberd 1.4
conference component, still sent by old clients.

 - get to C{room@service}: the room's requirements, C{<name/>} plus an
   empty C{<nick/>} and, for a password-protected room, C{<secret/>};
 - set with C{<nick/>} (and C{<secret/>}): enter the room under that
   nick, using the presence the client sent to the bare room JID before
   (the old "availability" step); the result names the occupant JID in
   C{<id/>}.

Groupchat 1.0 itself (presence to C{room@service/nick} without the MUC
C{<x/>}) is handled by L{components.conference.presence}; an occupant
entering either way is a legacy occupant and is sent XEP-0091 delay
stamps with history.
"""

from jabberd.error import StanzaError
from jabberd.handler import IQHandler, iqGet, iqSet
from jabberd.jidutil import parseJID
from jabberd.ns import NS_CONFERENCE
from components.conference import stanzas
from components.conference.disco import visibleRoom
from components.conference.presence import enterRoom
from components.conference.room import MUCError

__all__ = ["ConferenceHandler"]


class ConferenceHandler(IQHandler):
    """Answers C{jabber:iq:conference} gets and sets to rooms."""

    def __init__(self, service):
        self.service = service

    def discoFeatures(self, target, node):
        return [NS_CONFERENCE] if stanzas.isServiceTarget(target, node) else []

    def roomAddress(self, iq):
        """The room JID of the request; the service itself is no room."""
        address = stanzas.parseAddress(iq.getAttribute("to"))
        if address is None:
            raise StanzaError("bad-request", text="ask a room, not the service")
        return address[0]

    @iqGet(NS_CONFERENCE)
    def onRequirements(self, iq):
        """The room's name and what entering takes (a nick, a secret)."""
        roomJid = self.roomAddress(iq)
        result = stanzas.Element((NS_CONFERENCE, "query"))
        if self.service.room(roomJid) is None:
            # Entering creates it; the name is its localpart until configured.
            result.addElement("name", content=roomJid.split("@", 1)[0])
            result.addElement("nick")
            return result
        room = visibleRoom(self.service, iq)
        result.addElement("name", content=room.name)
        result.addElement("nick")
        if room.config.passwordProtected:
            result.addElement("secret")
        return result

    @iqSet(NS_CONFERENCE)
    def onEnter(self, iq):
        """Enter under the given nick; errors as the room gives them."""
        roomJid = self.roomAddress(iq)
        query = stanzas.queryPayload(iq, NS_CONFERENCE)
        nick = _text(query, "nick")
        sender = iq.getAttribute("from")
        occupantJid = parseJID(f"{roomJid}/{nick}") if nick else None
        if occupantJid is None:
            raise StanzaError("not-acceptable", text="a nick is required")
        room = self.service.room(roomJid)
        present = room.occupantByJid(sender) if room is not None else None
        if present is not None:
            if present.nick != occupantJid.resource:
                raise StanzaError("not-acceptable", text="already in the room")
            return _entered(room, present)
        children = self.service.legacyPresence.pop((roomJid, sender), [])
        try:
            occupant = enterRoom(self.service, iq, roomJid, occupantJid.resource, nick, sender,
                                 legacy=True, password=_text(query, "secret"),
                                 children=children)
        except MUCError as e:
            raise stanzas.stanzaError(e)
        return _entered(self.service.room(roomJid), occupant)


def _entered(room, occupant):
    """The result of a successful entry: nick, room name, occupant JID."""
    result = stanzas.Element((NS_CONFERENCE, "query"))
    result.addElement("nick", content=occupant.nick)
    result.addElement("name", content=room.name)
    result.addElement("id", content=occupant.occupantJid)
    return result


def _text(query, name):
    child = stanzas.firstChild(query, NS_CONFERENCE, name) if query is not None else None
    text = str(child).strip() if child is not None else ""
    return text or None
