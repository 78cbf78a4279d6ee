# -*- test-case-name: tests.components.conference.test_muc_invite -*-
"""
Mediated invitations (XEP-0045 section 7.8.2): an occupant asks the room
to invite someone, and the invitee may decline through the room.

Direct invitations (XEP-0249, C{jabber:x:conference}) go from user to
user and never pass through here, except inside a private message, which
L{components.conference.message} forwards untouched.

COMPAT: the room's invitation also carries a XEP-0249-style
C{jabber:x:conference} element, the only invitation groupchat 1.0
clients understand.
"""

from jabberd.error import errorReply
from jabberd.jidutil import parseJID
from jabberd.ns import NS_MUC_USER, NS_X_CONFERENCE
from components.conference import stanzas
from components.conference.roles import MEMBER

__all__ = ["isInvitation", "handle", "inviteMessage", "declineMessage"]


def isInvitation(userX):
    """Whether a C{muc#user} extension carries invites or a decline."""
    for child in userX.elements(NS_MUC_USER):
        if child.name in ("invite", "decline"):
            return True
    return False


def handle(service, room, occupant, stanza, userX):
    """Relay every invite and decline of C{userX}, or bounce the message."""
    for child in list(userX.elements(NS_MUC_USER)):
        if child.name == "invite":
            condition = _invite(service, room, occupant, child)
        elif child.name == "decline":
            condition = _decline(service, room, stanza, child)
        else:
            continue
        if condition:
            service.send(errorReply(stanza, condition))
            return


def _invite(service, room, occupant, invite):
    if occupant is None:
        return "not-acceptable"
    if not room.mayInvite(occupant):
        return "forbidden"
    invitee = parseJID(invite.getAttribute("to") or "")
    if invitee is None:
        return "jid-malformed"
    bare = invitee.userhost()
    if room.grantsMembershipOnInvite(occupant, bare):
        room.setAffiliation(bare, MEMBER)
        service.persistAffiliation(room, bare, MEMBER)
    service.send(inviteMessage(room, occupant, invitee.full(), _reason(invite),
                               stanzas.firstChild(invite, NS_MUC_USER, "continue")))
    return None


def _decline(service, room, stanza, decline):
    inviter = parseJID(decline.getAttribute("to") or "")
    if inviter is None:
        return "jid-malformed"
    service.send(declineMessage(room, stanza.getAttribute("from"), inviter.full(),
                                _reason(decline)))
    return None


def inviteMessage(room, occupant, to, reason=None, continuation=None):
    """The room's invitation to C{to} on behalf of C{occupant}."""
    message = stanzas.Element((None, "message"))
    message["from"] = room.jid
    message["to"] = to
    x = message.addElement((NS_MUC_USER, "x"))
    invite = x.addElement("invite")
    invite["from"] = occupant.jid
    if reason:
        invite.addElement("reason", content=reason)
    if continuation is not None:
        invite.addChild(continuation)
    if room.config.passwordProtected:
        x.addElement("password", content=room.config.password)
    legacy = message.addElement((NS_X_CONFERENCE, "x"))
    legacy["jid"] = room.jid
    if reason:
        legacy["reason"] = reason
    text = f"{occupant.nick} invites you to the room {room.jid}"
    message.addElement("body", content=text + (f": {reason}" if reason else ""))
    return message


def declineMessage(room, decliner, to, reason=None):
    """The room's notice to the inviter C{to} that C{decliner} declined."""
    message = stanzas.Element((None, "message"))
    message["from"] = room.jid
    message["to"] = to
    x = message.addElement((NS_MUC_USER, "x"))
    decline = x.addElement("decline")
    decline["from"] = decliner
    if reason:
        decline.addElement("reason", content=reason)
    return message


def _reason(element):
    reason = stanzas.firstChild(element, NS_MUC_USER, "reason")
    return str(reason) if reason is not None else None
