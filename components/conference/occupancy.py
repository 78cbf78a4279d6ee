# -*- test-case-name: tests.components.conference.test_muc_join -*-
"""
What the room tells its occupants when someone enters, changes nick,
updates presence, leaves or is removed (XEP-0045 section 7.2 "Presence
Broadcast", discussion history and room subject, 7.6 nick change, 7.7
presence update, 7.14 exit, 8.2 kick, 9.1 ban, 10.9 destroy).

Presence to others differs only in whether the real JID is shown, so at
most two templates are built per broadcast and each recipient gets a
shallow copy (L{stanzas.stamped}).
"""

from components.conference import stanzas
from components.conference.roles import MODERATOR, NONE
from components.conference.room import MUCError
from jabberd.ns import NS_MUC_USER

__all__ = ["broadcastPresence", "announceEntry", "sendHistory", "announceExit",
           "changeNick", "announceRemoval", "announceRoleChange", "destroyRoom"]


def broadcastPresence(service, room, subject, selfCodes=(), codes=(), unavailable=False,
                      children=None, nick=None, actor=None, reason=None, extra=(),
                      selfFirst=False):
    """
    Send C{subject}'s presence to every occupant, and to C{subject}
    itself with status 110 (last, or first if C{selfFirst}: removals
    tell the removed occupant first, section 8.2).
    """
    send = service.send
    options = dict(unavailable=unavailable, children=children, nick=nick,
                   actor=actor, reason=reason, extra=extra)
    own = stanzas.occupantPresence(subject, True, list(codes) + list(selfCodes) + ["110"],
                                   **options)
    if selfFirst:
        send(stanzas.stamped(own, subject.jid))
    templates = {}
    for viewer in list(room.occupants.values()):
        if viewer is subject:
            continue
        showJid = room.maySeeRealJid(viewer)
        template = templates.get(showJid)
        if template is None:
            template = templates[showJid] = stanzas.occupantPresence(
                subject, showJid, codes, **options)
        send(stanzas.stamped(template, viewer.jid))
    if not selfFirst:
        send(stanzas.stamped(own, subject.jid))


def announceEntry(service, room, occupant, selfCodes, historyRequest):
    """
    Section 7.2: the others' presence to the newcomer, the newcomer's to
    everyone (its own last), then history, then the subject.
    """
    showJid = room.maySeeRealJid(occupant)
    for other in list(room.occupants.values()):
        if other is not occupant:
            presence = stanzas.occupantPresence(other, showJid)
            service.send(stanzas.stamped(presence, occupant.jid))
    broadcastPresence(service, room, occupant, selfCodes)
    sendHistory(service, room, occupant, historyRequest)
    service.send(stanzas.stamped(stanzas.subjectMessage(room), occupant.jid))


def sendHistory(service, room, occupant, request):
    """Send the history C{request} selects, each with its delay stamp."""
    for entry in room.history.select(request, room.config.maxHistory):
        message = stanzas.stamped(entry.stanza, occupant.jid)
        message.children.extend(stanzas.delayElements(entry.stamp, room.jid, occupant.legacy))
        service.send(message)


def announceExit(service, room, occupant, children=(), codes=()):
    """
    C{occupant} left (already removed): everyone, itself included, gets
    its unavailable presence; a temporary room may now vanish.
    """
    broadcastPresence(service, room, occupant, codes=codes, unavailable=True,
                      children=list(children), selfFirst=True)
    service.occupantLeft(room)


def changeNick(service, room, occupant, nick, children, modified=False):
    """
    Section 7.6: unavailable from the old nick with status 303 and the
    new nick, then available from the new one; C{conflict} if taken.
    """
    holder = room.occupants.get(nick)
    if holder is not None and holder is not occupant:
        raise MUCError("conflict", "that nickname is in use")
    broadcastPresence(service, room, occupant, codes=("303",), unavailable=True,
                      children=[], nick=nick)
    room.changeNick(occupant, nick)
    occupant.presence = children
    broadcastPresence(service, room, occupant, selfCodes=("210",) if modified else ())


def announceRemoval(service, room, occupant, code, actor=None, reason=None):
    """
    C{occupant} was removed (already out of the room) by a kick (307),
    ban (301) or membership change (321, 322): it hears first, then the
    others, with the actor's nick and the reason (sections 8.2, 9.1).
    """
    broadcastPresence(service, room, occupant, codes=(code,), unavailable=True,
                      children=[], actor=actor, reason=reason, selfFirst=True)
    service.occupantLeft(room)


def announceRoleChange(service, room, occupant, actor=None, reason=None, oldRole=None):
    """
    A new role or affiliation: everyone gets the occupant's presence.  A
    new moderator of a semi-anonymous room may now see real JIDs, so it
    gets the others' presence again, with them.
    """
    broadcastPresence(service, room, occupant, actor=actor, reason=reason)
    if (oldRole is not None and oldRole != MODERATOR and occupant.role == MODERATOR
            and not room.config.nonAnonymous):
        for other in list(room.occupants.values()):
            if other is not occupant:
                presence = stanzas.occupantPresence(other, True)
                service.send(stanzas.stamped(presence, occupant.jid))


def destroyRoom(service, room, alternate=None, reason=None, password=None):
    """
    Section 10.9: every occupant gets unavailable presence carrying
    C{<destroy/>} with the alternate venue and reason; the room and its
    stored state go.
    """
    destroy = stanzas.Element((NS_MUC_USER, "destroy"))
    if alternate:
        destroy["jid"] = alternate
    if reason:
        destroy.addElement("reason", content=reason)
    if password:
        destroy.addElement("password", content=password)
    for occupant in room.removeAll():
        occupant.affiliation = occupant.role = NONE
        presence = stanzas.occupantPresence(occupant, False, ("110",), unavailable=True,
                                            children=[], extra=[destroy])
        service.send(stanzas.stamped(presence, occupant.jid))
    service.discardRoom(room)
