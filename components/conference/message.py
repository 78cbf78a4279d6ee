# -*- test-case-name: tests.components.conference.test_muc_message -*-
"""
Messages to rooms and occupants (XEP-0045 section 7.4 "Sending a Message
to All Occupants", 7.5 "Sending a Private Message", 8.1 "Modifying the
Room Subject", 7.2 history), dispatching invitations (7.8) and voice
requests (7.13, 8.6) to their modules.

Groupchat fan-out is the hot path: the sender's message becomes one
template (from the occupant JID, children shared) kept in the history,
and each occupant gets a copy differing only in C{to}.  No logging here.
The template carries the sender's occupant id (XEP-0421) and, in a room
that archives, the archive's stanza-id (XEP-0359, see
L{components.conference.archive}); a client's own claims to either are
removed first.

COMPAT: groupchat 1.0 clients chat with exactly these stanzas; C{/me}
actions (XEP-0245) are plain bodies and pass through untouched.
"""

from jabberd.error import errorReply
from jabberd.handler import Handler
from jabberd.mam.ids import stripStanzaIds
from jabberd.ns import NS_DATA, NS_MUC_USER
from components.conference import invitation, stanzas, voicerequest
from components.conference.occupantid import occupantIdElement, withoutOccupantIds

__all__ = ["MessageHandler", "reflect", "occupantMessage"]

_ADDRESSING = ("to", "from")


class MessageHandler(Handler):
    """Every message addressed to a room or an occupant JID."""

    def __init__(self, service):
        self.service = service

    def onInbound(self, stanza):
        if stanza.name != "message":
            return False
        address = stanzas.parseAddress(stanza.getAttribute("to"))
        if address is None:
            return False
        if stanza.getAttribute("type") == "error":
            return True
        roomJid, nick, _raw = address
        room = self.service.room(roomJid)
        if room is None:
            self.refuse(stanza, "item-not-found", "no such room")
            return True
        occupant = room.occupantByJid(stanza.getAttribute("from"))
        if nick is None:
            self.toRoom(stanza, room, occupant)
        else:
            self.toOccupant(stanza, room, occupant, nick)
        return True

    def refuse(self, stanza, condition, text=None):
        """Bounce C{stanza} with an error from the address it was sent to."""
        self.service.send(errorReply(stanza, condition, text))

    def toRoom(self, stanza, room, occupant):
        """A message to the bare room JID: one of the section 7.4 cases."""
        userX = stanzas.firstChild(stanza, NS_MUC_USER, "x")
        if userX is not None and invitation.isInvitation(userX):
            invitation.handle(self.service, room, occupant, stanza, userX)
            return
        form = stanzas.firstChild(stanza, NS_DATA, "x")
        if form is not None and voicerequest.isVoiceForm(form):
            voicerequest.handle(self.service, room, occupant, stanza, form)
            return
        if occupant is None:
            self.refuse(stanza, "not-acceptable", "only occupants may send messages")
        elif stanza.getAttribute("type") != "groupchat":
            self.refuse(stanza, "bad-request", "messages to the room are groupchat")
        elif stanzas.firstChild(stanza, name="subject") is not None and stanzas.firstChild(stanza, name="body") is None:
            self.changeSubject(stanza, room, occupant)
        else:
            self.groupchat(stanza, room, occupant)

    def groupchat(self, stanza, room, occupant):
        """Section 7.4: reflect to every occupant and keep it in history."""
        if not room.maySpeak(occupant):
            self.refuse(stanza, "forbidden", "visitors may not speak in this room")
            return
        template = occupantMessage(stanza, room, occupant)
        if stanzas.firstChild(stanza, name="body") is not None:
            self.service.archive.record(room, template, occupant)
            room.history.add(template)
        stanzas.fanout(self.service.send, template, [o.jid for o in room.occupants.values()])

    def changeSubject(self, stanza, room, occupant):
        """Section 8.1: moderators, or participants if the room allows it."""
        if not room.mayChangeSubject(occupant):
            self.refuse(stanza, "forbidden", "you may not change the subject")
            return
        room.setSubject(occupant, str(stanzas.firstChild(stanza, name="subject")))
        self.service.persistSubject(room)
        template = occupantMessage(stanza, room, occupant)
        stanzas.fanout(self.service.send, template, [o.jid for o in room.occupants.values()])

    def toOccupant(self, stanza, room, occupant, nick):
        """
        Section 7.5: a private message, passed to the recipient's real
        JID from the sender's occupant JID; its payload (XEP-0249 direct
        invitations included) is not touched.
        """
        target = room.occupants.get(nick)
        if occupant is None:
            self.refuse(stanza, "not-acceptable", "only occupants may send private messages")
        elif stanza.getAttribute("type") == "groupchat":
            self.refuse(stanza, "bad-request", "private messages are not groupchat")
        elif target is None:
            self.refuse(stanza, "item-not-found", "no such occupant")
        elif not room.maySendPrivate(occupant):
            self.refuse(stanza, "forbidden", "private messages are not allowed here")
        else:
            message = stanzas.stamped(occupantMessage(stanza, room, occupant), target.jid)
            if stanzas.firstChild(stanza, NS_MUC_USER, "x") is None:
                message.children.append(stanzas.Element((NS_MUC_USER, "x")))
            self.service.send(message)


def reflect(stanza, sender):
    """
    The room's copy of C{stanza}: from C{sender}, no C{to}, every other
    attribute (type, id, xml:lang) and the very same children.
    """
    copy = stanzas.Element.__new__(stanzas.Element)
    copy.__dict__.update(stanza.__dict__)
    attributes = {k: v for k, v in stanza.attributes.items() if k not in _ADDRESSING}
    attributes["from"] = sender
    copy.attributes = attributes
    copy.children = stanza.children[:]
    copy.parent = None
    return copy


def occupantMessage(stanza, room, occupant):
    """
    The room's copy of a message from C{occupant}: L{reflect}ed, without
    the occupant ids and room stanza-ids the client put on it (only the
    room vouches for those: XEP-0421 section 4, XEP-0359 section 3), with
    the occupant's own occupant id.
    """
    copy = reflect(stanza, occupant.occupantJid)
    copy.children = withoutOccupantIds(copy.children)
    stripStanzaIds(copy, room.jid)
    if occupant.occupantId:
        copy.children.append(occupantIdElement(occupant.occupantId))
    return copy
