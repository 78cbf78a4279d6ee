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
   urgent stanza is written, what is held from its sender's bare JID is
   written, in the order it came, so no sender's stanzas are reordered
   (RFC 6120 section 10.1 orders a sender's stanzas, not different
   senders'); the rest stays held until C{<active/>}, as section 3.2
   suggests ("suppress presence updates until the client becomes active
   again").  A phone woken by one contact's message so gets that contact's
   latest presence with it, not every contact's.  C{[c2s] csi_urgent_flush
   = all} writes everything held before any urgent stanza instead.
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
    What an inactive session holds: key -> (sender's bare JID, stanza), in
    the order to write them.  A presence is keyed by its sender's full JID,
    so a newer one replaces the older and moves to the end; anything else
    gets a key of its own.  C{senders} counts the stanzas held per bare
    JID, so an urgent stanza from a sender with nothing held costs one
    look-up.
    """

    __slots__ = ("stanzas", "serial", "senders")

    def __init__(self):
        self.stanzas = {}
        self.serial = 0
        self.senders = {}

    def keep(self, stanza, sender, presence=False):
        """
        Hold C{stanza} from the full JID C{sender}; a presence replaces the
        sender's last one.
        """
        if presence:
            key = ("presence", sender)
            if self.stanzas.pop(key, None) is not None:
                self._forget(bareOf(sender))
        else:
            self.serial += 1
            key = self.serial
        bare = bareOf(sender)
        self.stanzas[key] = (bare, stanza)
        self.senders[bare] = self.senders.get(bare, 0) + 1

    def take(self):
        """Everything held, in order, and hold nothing any more."""
        stanzas = [stanza for _bare, stanza in self.stanzas.values()]
        self.stanzas.clear()
        self.senders.clear()
        return stanzas

    def takeFrom(self, bare):
        """What is held from the bare JID C{bare}, in order, and hold it no more."""
        if bare not in self.senders:
            return []
        del self.senders[bare]
        keys = [key for key, (sender, _s) in self.stanzas.items() if sender == bare]
        return [self.stanzas.pop(key)[1] for key in keys]

    def _forget(self, bare):
        left = self.senders[bare] - 1
        if left:
            self.senders[bare] = left
        else:
            del self.senders[bare]

    def __len__(self):
        return len(self.stanzas)


class CSIHandler(Handler):
    """
    Holds what an inactive session can do without (see the module's
    description).

    @ivar maxHeld: stanzas held per session before all are written.
    @ivar urgentFlush: what an urgent stanza writes first: C{"sender"}, what
        is held from its sender's bare JID, or C{"all"}, everything held.
    """

    handlerName = "csi"
    stage = Stage.QUEUE

    def __init__(self, maxHeld=500, urgentFlush="sender"):
        self.maxHeld = maxHeld
        self.urgentFlush = urgentFlush
        # Inactive sessions only: an active one costs onDeliver one look-up.
        self._held = {}

    @classmethod
    def fromConfig(cls, config):
        """The handler with C{[c2s] csi_max_held} and C{csi_urgent_flush}."""
        return cls(maxHeld=config.c2s.csiMaxHeld, urgentFlush=config.c2s.csiUrgentFlush)

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
        # No 'from': from the user's own account (RFC 6120 section 8.1.2.1).
        sender = stanza.getAttribute("from") or session.bare
        if name == "presence" and stanza.getAttribute("type") in (None, "unavailable"):
            held.keep(stanza, sender, presence=True)
        elif name == "message" and canWait(session, stanza):
            held.keep(stanza, sender)
        else:
            if self.urgentFlush == "all":
                self._write(session, held)
            else:
                for earlier in held.takeFrom(bareOf(sender)):
                    session.write(earlier)
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
