# -*- test-case-name: tests.sm.test_carbons -*-
"""
Message Carbons (XEP-0280), with the XEP-0334 C{<no-copy/>} hint: every
carbons-enabled resource of a user sees both sides of the user's
conversations, whichever resource had them.

 - A resource turns carbons on and off with an iq set of C{<enable/>} or
   C{<disable/>} (sections 4 and 5).  The state belongs to the session and
   ends with it.  Enabling twice, or disabling while off, is answered with
   a result (section 10.1).  A request from anyone but a session of this
   server, or about another account, gets C{not-allowed} (sections 4.1 and
   5.1); any other element gets C{bad-request}.
 - A message delivered to a local user (section 7) is copied, wrapped in
   C{<received><forwarded/></received>} from the user's bare JID, to each
   carbons-enabled resource that did not get the message itself by the
   rules of RFC 6121 section 8.5 (L{jabberd.sm.message.recipients}), nor
   sent it.  A message no resource gets (it bounces or goes to offline
   storage) is not copied: the offline store delivers it later.
 - A message a local resource sends (section 8) is copied, in C{<sent/>},
   to the user's other carbons-enabled resources, whether or not the
   sender enabled carbons.  A message to the user's own account is copied
   once, on delivery, as received.
 - Which messages are copied follows section 6.1: chat; normal with a
   body; XEP-0184 receipts, XEP-0085 chat states and XEP-0333 markers;
   XEP-0249 and mediated (XEP-0045 section 7.8.2) invitations.  Never
   groupchat, headline or error, and never a message with C{<private/>}
   (section 9) or C{<no-copy/>} (XEP-0334 section 4.2).  A MUC private
   message (an C{<x xmlns='http://jabber.org/protocol/muc#user'/>} with no
   invitation) is copied when a user sends it, not when a user receives it:
   the room already gives it to every client joined with that nick.  Error
   replies are not correlated with what they answer, so no error is
   copied, and the C{urn:xmpp:carbons:rules:0} promise is not advertised
   (section 6.2).
 - C{<private/>} stays in what is delivered: version 1.0 dropped the
   earlier advice to remove it (section 9), so a recipient can tell the
   message was not copied.
 - Security (section 11): a client takes a carbon only from its own bare
   JID.  This handler writes its copies straight to the sessions, never
   through the router, so a routed message carrying C{<sent/>} or
   C{<received/>} is someone else's.  It is never wrapped in a copy (that
   would make it appear from the bare JID), and one from the recipient's
   own account, which a client comparing bare JIDs only would take for a
   carbon, is refused with C{not-acceptable}.  A copy cannot bounce
   (section 10.3): it is written to a session, not routed.

The hooks run in the copies stage (L{Stage.COPIES}): after blocking has had
its say and the archive has stamped its id, before delivery.  A message for
or from a user with no carbons-enabled resource costs a dictionary look-up.
"""

from twisted.words.protocols.jabber.xmlstream import toResponse
from twisted.words.xish import domish

from jabberd.error import StanzaError, isErrorable
from jabberd.handler import IQHandler, Stage, iqSet
from jabberd.jidutil import parseJID
from jabberd.logs import Logger
from jabberd.ns import (NS_CARBONS, NS_CHAT_MARKERS, NS_CHATSTATES, NS_CLIENT, NS_FORWARD,
                        NS_HINTS, NS_MUC_USER, NS_RECEIPTS, NS_X_CONFERENCE)
from jabberd.sm.message import recipients
from jabberd.sm.target import iqTarget
from jabberd.stanza import copyElement, firstChild, toClientNamespace

__all__ = ["CarbonsHandler", "eligible", "SENT", "RECEIVED"]

SENT = "sent"
RECEIVED = "received"

#: Payloads that make a message an instant message (XEP-0280 section 6.1).
_IM_PAYLOADS = frozenset((NS_RECEIPTS, NS_CHATSTATES, NS_CHAT_MARKERS))
#: Message types that are never copied.
_NOT_COPIED = frozenset(("groupchat", "headline", "error"))


def eligible(message, direction):
    """
    Whether C{message} is copied by the rules of XEP-0280 section 6.1, as
    it is sent by a local user (C{direction} L{SENT}) or delivered to one
    (L{RECEIVED}).
    """
    kind = message.getAttribute("type")
    if kind in _NOT_COPIED:
        return False
    copied = kind == "chat"
    for child in message.elements():
        uri = child.uri
        if uri == NS_CARBONS:
            return False  # <private/>, or a <sent/>/<received/> this server did not make
        if uri == NS_HINTS:
            if child.name == "no-copy":
                return False
        elif uri == NS_MUC_USER:
            if child.name == "x":
                if firstChild(child, NS_MUC_USER, "invite") is not None:
                    copied = True
                elif direction == RECEIVED:
                    return False
        elif uri in _IM_PAYLOADS:
            copied = True
        elif uri == message.uri:
            copied = copied or child.name == "body"
        elif uri == NS_X_CONFERENCE and child.name == "x":
            copied = True
    return copied


def _carriesCarbon(message):
    """Whether C{message} has a C{<sent/>} or C{<received/>} child of XEP-0280."""
    for child in message.elements(NS_CARBONS):
        if child.name == SENT or child.name == RECEIVED:
            return True
    return False


def _accountOf(address):
    """
    The prepared bare JID of C{address}: as it is when prepared ASCII,
    the usual case, which costs no parsing; None if it is no JID.
    """
    bare = address.partition("/")[0]
    if bare.isascii() and bare.islower():
        return bare
    jid = parseJID(bare)
    return jid.userhost() if jid is not None else None


class CarbonsHandler(IQHandler):
    """
    Keep the carbons state of sessions and copy their users' messages to
    them.

    @ivar enabled: bare JID -> {resource: L{Session}} of the sessions that
        enabled carbons.
    """

    log = Logger()
    handlerName = "carbons"
    stage = Stage.COPIES

    def __init__(self):
        self.enabled = {}

    # --- the state (sections 4, 5, 10.1) ---

    @iqSet(NS_CARBONS)
    def onCarbons(self, iq):
        """Enable or disable carbons for the session that asks, for itself only."""
        session = self.host.session(iq.getAttribute("from", ""))
        target = iqTarget(self.host, iq)
        if session is None or not (target.isServer or target.isSelf):
            raise StanzaError("not-allowed", text="only a session of this server sets its carbons")
        request = firstChild(iq)
        if request.name == "enable":
            self.enabled.setdefault(session.bare, {})[session.resource] = session
        elif request.name == "disable":
            self._forget(session)
        else:
            raise StanzaError("bad-request", text=f"expected enable or disable, got {request.name}")
        return None

    def isEnabled(self, session):
        """Whether C{session} has carbons enabled."""
        return self.enabled.get(session.bare, {}).get(session.resource) is session

    def sessionEnded(self, session):
        """The carbons state ends with the session."""
        self._forget(session)

    def _forget(self, session):
        resources = self.enabled.get(session.bare)
        if resources is not None and resources.get(session.resource) is session:
            del resources[session.resource]
            if not resources:
                del self.enabled[session.bare]

    # --- copies (sections 7, 8, 11) ---

    def onOutbound(self, session, stanza):
        """A message a resource sends: a sent copy to the user's other enabled resources."""
        if stanza.name != "message":
            return False
        resources = self.enabled.get(session.bare)
        if resources is None:
            return False
        others = [other for other in resources.values() if other is not session]
        if not others:
            return False
        to = stanza.getAttribute("to")
        if not to or _accountOf(to) == session.bare:
            return False  # to the user's own account: copied as received on delivery
        if eligible(stanza, SENT):
            self._copy(stanza, SENT, session.bare, others)
        return False

    def onInbound(self, stanza):
        """
        A message for a local user: refused if it carries a carbon from the
        user's own account; otherwise a received copy to each enabled
        resource that neither gets nor sent it.  Delivery is left to the
        message handler.
        """
        if stanza.name != "message":
            return False
        attributes = stanza.attributes  # every message passes here: no method calls
        to = attributes.get("to")
        bare = _accountOf(to) if to else None
        if bare is None:
            return False
        sender = attributes.get("from", "")
        if sender.startswith(bare) and sender[len(bare):len(bare) + 1] in ("", "/") \
                and _carriesCarbon(stanza):
            self._refuse(stanza)
            return True
        resources = self.enabled.get(bare)
        if resources is None or not eligible(stanza, RECEIVED):
            return False
        delivered = recipients(self.host, stanza)
        if delivered:
            targets = [session for session in resources.values()
                       if session not in delivered and session.full != sender]
            if targets:
                self._copy(stanza, RECEIVED, bare, targets)
        return False

    def _copy(self, stanza, direction, bare, sessions):
        """
        Write C{stanza}, forwarded (XEP-0297) in a C{direction} element,
        from C{bare} to each of C{sessions}.  Each copy has its own copy of
        the message, so what happens to the original on its way (or to one
        copy in a session's queue) changes no other.
        """
        kind = stanza.getAttribute("type")
        for session in sessions:
            wrapper = domish.Element((NS_CLIENT, "message"))
            wrapper["from"] = bare
            wrapper["to"] = session.full
            if kind:
                wrapper["type"] = kind
            forwarded = wrapper.addElement((NS_CARBONS, direction)).addElement(
                (NS_FORWARD, "forwarded"))
            forwarded.addChild(toClientNamespace(copyElement(stanza)))
            session.deliver(wrapper)

    def _refuse(self, stanza):
        self.log.info("refused a carbon from {sender} to its own account",
                      sender=stanza.getAttribute("from"))
        if isErrorable(stanza):
            # Without the original payload (RFC 6120 section 8.3.1 allows
            # it): the error goes back to the same account, and would carry
            # the forged carbon with it.
            reply = toResponse(stanza, "error")
            reply.addChild(StanzaError("not-acceptable",
                                       text="carbons come only from the account's server")
                           .getElement())
            self.send(reply)

    # --- discovery (section 3) ---

    def discoFeatures(self, target, node):
        """The server supports carbons, and so does each account it hosts."""
        return [] if node else [NS_CARBONS]
