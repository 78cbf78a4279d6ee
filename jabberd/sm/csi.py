# -*- test-case-name: tests.sm.test_csi -*-
"""
Client State Indication (XEP-0352): a client tells the server whether its
user is looking at it, and while it is not the server holds back what can
wait (section 3.2), so that a phone's radio and CPU stay asleep.

 - The C{<csi xmlns='urn:xmpp:csi:0'/>} stream feature is offered after
   authentication (section 4.1).  C{<inactive/>} and C{<active/>} are
   first-level elements, not stanzas (section 4.2); they reach this handler
   through the C{onNonza} hook, and get no reply.  A stream starts active
   (section 5); the state is the stream's and unrelated to presence.
 - While a session is inactive its C{onDeliver} hook holds presence updates
   (availability and unavailability; a newer one from the same full JID
   replaces the older, which is the "latest presence from each contact" of
   section 3.2) and messages that carry only a chat state (XEP-0085), as
   well as room messages that do not mention the user's nick in a room
   where the nick is known.  Everything else is urgent: a message with a
   body, any iq, subscription requests and answers, errors.  Before an
   urgent stanza is written, everything held is written, in the order it
   came, so no sender's stanzas are reordered.
 - C{<active/>} writes everything held, before the stream reads on: section
   5.1 wants all its effects on the wire before the next request's answer.
 - The number held is bounded (C{[c2s] csi_max_held}); past it, all is
   written.
 - A session that ends while inactive loses nothing that matters: held
   presence is dropped, because the client is gone and its next session
   gets every contact's current presence by probing (RFC 6121 section
   4.2); held chat states are dropped, as offline storage would not keep
   them either (XEP-0160); held room messages are handed
   back to the host, which treats them as it treats anything for a session
   that is gone (RFC 6121 section 8.5.3.2.1).
"""

from twisted.words.xish import domish

from jabberd.handler import Handler, Stage
from jabberd.jidutil import bareOf
from jabberd.ns import NS_CHATSTATES, NS_CSI, NS_FORWARD

__all__ = ["CSIHandler", "Held"]


class Held:
    """
    What an inactive session holds: key -> stanza, in the order to write
    them.  A presence is keyed by its sender's full JID, so a newer one
    replaces the older and moves to the end; anything else gets a key of
    its own.
    """

    __slots__ = ("stanzas", "serial")

    def __init__(self):
        self.stanzas = {}
        self.serial = 0

    def keep(self, stanza, sender=None):
        """Hold C{stanza}; a presence (C{sender} given) replaces the sender's last one."""
        if sender is None:
            self.serial += 1
            key = self.serial
        else:
            key = ("presence", sender)
            self.stanzas.pop(key, None)
        self.stanzas[key] = stanza

    def take(self):
        """Everything held, in order, and hold nothing any more."""
        stanzas = list(self.stanzas.values())
        self.stanzas.clear()
        return stanzas

    def __len__(self):
        return len(self.stanzas)


class CSIHandler(Handler):
    """
    Holds what an inactive session can do without (see the module's
    description).

    @ivar maxHeld: stanzas held per session before all are written.
    """

    handlerName = "csi"
    stage = Stage.QUEUE

    def __init__(self, maxHeld=500):
        self.maxHeld = maxHeld
        # Inactive sessions only: an active one costs onDeliver one look-up.
        self._held = {}

    @classmethod
    def fromConfig(cls, config):
        """The handler with C{[c2s] csi_max_held}."""
        return cls(maxHeld=config.c2s.csiMaxHeld)

    def isInactive(self, session):
        """Whether C{session} said it is inactive (and has not said active since)."""
        return session in self._held

    # --- hooks ---

    def streamFeatures(self):
        """Section 4.1: offered after authentication."""
        return [domish.Element((NS_CSI, "csi"))]

    def onNonza(self, session, element):
        """C{<inactive/>} starts holding, C{<active/>} writes what was held (section 4.2)."""
        if element.uri != NS_CSI:
            return False
        if element.name == "inactive":
            self._held.setdefault(session, Held())
        elif element.name == "active":
            held = self._held.pop(session, None)
            if held is not None:
                self._write(session, held)
        else:
            return False  # e.g. <csi/> from a client: not a state
        return True

    def onDeliver(self, session, stanza):
        """Hold what can wait for an inactive session; write all before what cannot."""
        held = self._held.get(session)
        if held is None:
            return False
        name = stanza.name
        if name == "presence" and stanza.getAttribute("type") in (None, "unavailable"):
            held.keep(stanza, stanza.getAttribute("from") or "")
        elif name == "message" and canWait(session, stanza):
            held.keep(stanza)
        else:
            self._write(session, held)
            return False  # urgent: the next hooks and the stream have it now
        if len(held) > self.maxHeld:
            self._write(session, held)
        return True

    def sessionEnded(self, session):
        """Drop held presence and chat states; room messages meet the rules for a gone session."""
        held = self._held.pop(session, None)
        if held is None:
            return
        for stanza in held.take():
            if stanza.name == "message" and body(stanza) is not None:
                self.host.receive(stanza)

    # --- writing ---

    def _write(self, session, held):
        for stanza in held.take():
            session.write(stanza)


def body(message):
    """The text of C{message}'s body, or None when it has none."""
    for child in message.elements():
        if child.name == "body" and child.uri == message.uri:
            return str(child)
    return None


def canWait(session, message):
    """
    Whether a message to an inactive C{session} can be held: one carrying
    only a chat state (XEP-0085: no body, nothing but chat state elements
    and a thread) or forwarding only such a message, or a room message that
    does not mention the user's nick where the nick is known.
    """
    text = body(message)
    if text is None:
        return chatStateOnly(message) or forwardsChatState(message)
    if message.getAttribute("type") != "groupchat":
        return False
    nick = nickIn(session, message.getAttribute("from") or "")
    if nick is None:
        return False  # we cannot tell whether it mentions the user
    sender = message.getAttribute("from").partition("/")[2]
    return sender != nick and nick.lower() not in text.lower()


def chatStateOnly(message):
    """Whether C{message} has a chat state and nothing else but a thread."""
    state = False
    for child in message.elements():
        if child.uri == NS_CHATSTATES:
            state = True
        elif not (child.name == "thread" and child.uri == message.uri):
            return False
    return state


def forwardsChatState(message):
    """
    Whether C{message}'s one child forwards (XEP-0297) a message that
    carries only a chat state, as a carbon copy (XEP-0280) of one does.
    """
    children = list(message.elements())
    if len(children) != 1:
        return False
    for forwarded in children[0].elements(NS_FORWARD, "forwarded"):
        for inner in forwarded.elements():
            if inner.name == "message":
                return body(inner) is None and chatStateOnly(inner)
    return False


def nickIn(session, occupant):
    """
    The nick C{session} uses in the room of C{occupant} (a room occupant's
    JID), from the directed presence it sent there (XEP-0045 section 7.2),
    or None.
    """
    prefix = bareOf(occupant) + "/"
    for address in session.directed:
        if address.startswith(prefix):
            return address[len(prefix):]
    return None
