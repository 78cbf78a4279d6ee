# -*- test-case-name: tests.components.conference.test_muc_message -*-
"""
IQs to occupant JIDs (XEP-0045 section 7.5 last paragraphs and 6.6
"Querying a Room Occupant"): the room passes an occupant's request on to
the addressed occupant's real JID, from the requester's occupant JID, so
nobody learns a real JID they may not see; the answer comes back the
same way.

MUC Self-Ping (XEP-0410 section 3.3, "Server Optimization"): a ping to
one's own occupant JID is answered by the room itself, a result when the
sender is the occupant holding that nick, so a client learns whether it
is still joined without a round trip to its own resources; a sender that
is not an occupant gets C{not-acceptable}, as for any iq to an occupant
JID, even when the nick or the room is gone (a room that vanished in a
restart must not look like a nick change, section 3.2).
The room advertises the optimisation in its disco#info.

IQs to the room JID itself are answered by the iq handlers (owner,
admin, disco, browse, legacy, mam); these reach the host's dispatcher.
"""

from twisted.words.protocols.jabber.xmlstream import toResponse

from jabberd.error import errorReply, isErrorable
from jabberd.handler import Handler
from jabberd.ns import NS_MUC_SELF_PING, NS_PING
from components.conference import stanzas
from components.conference.message import reflect

__all__ = ["OccupantIQHandler"]


class OccupantIQHandler(Handler):
    """Relays iqs addressed to C{room@service/nick}."""

    def __init__(self, service):
        self.service = service

    def roomDiscoFeatures(self, room):
        """XEP-0410 section 3.3: rooms answer self-pings themselves."""
        return [NS_MUC_SELF_PING]

    def onInbound(self, stanza):
        if stanza.name != "iq":
            return False
        address = stanzas.parseAddress(stanza.getAttribute("to"))
        if address is None or address[1] is None:
            return False
        roomJid, nick, _raw = address
        room = self.service.room(roomJid)
        sender = room.occupantByJid(stanza.getAttribute("from")) if room else None
        target = room.occupants.get(nick) if room else None
        if sender is None or target is None:
            # Not an occupant: not-acceptable, whoever is addressed (XEP-0410
            # section 3.2 reads it as "not joined"); an occupant addressing
            # a nick nobody holds: item-not-found.
            if isErrorable(stanza):
                condition = "not-acceptable" if sender is None else "item-not-found"
                self.service.send(errorReply(stanza, condition))
            return True
        if target is sender and _isPing(stanza):
            self.service.send(toResponse(stanza, "result"))
            return True
        self.service.send(stanzas.stamped(reflect(stanza, sender.occupantJid), target.jid))
        return True


def _isPing(iq):
    """Whether C{iq} is a XEP-0199 ping get."""
    return (iq.getAttribute("type") == "get"
            and stanzas.firstChild(iq, NS_PING, "ping") is not None)
