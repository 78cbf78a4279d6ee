# -*- test-case-name: tests.components.conference.test_muc_message -*-
"""
IQs to occupant JIDs (XEP-0045 section 7.5 last paragraphs and 6.6
"Querying a Room Occupant"): the room passes an occupant's request on to
the addressed occupant's real JID, from the requester's occupant JID, so
nobody learns a real JID they may not see; the answer comes back the
same way.

IQs to the room JID itself are answered by the iq handlers (owner,
admin, disco, browse, legacy); these reach the host's dispatcher.
"""

from jabberd.error import errorReply, isErrorable
from jabberd.handler import Handler
from components.conference import stanzas
from components.conference.message import reflect

__all__ = ["OccupantIQHandler"]


class OccupantIQHandler(Handler):
    """Relays iqs addressed to C{room@service/nick}."""

    def __init__(self, service):
        self.service = service

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
            if isErrorable(stanza):
                condition = "not-acceptable" if target is not None else "item-not-found"
                self.service.send(errorReply(stanza, condition))
            return True
        self.service.send(stanzas.stamped(reflect(stanza, sender.occupantJid), target.jid))
        return True
