# -*- test-case-name: tests.cluster.test_inflight -*-
"""
Messages in flight between nodes, kept until the receiving node confirms
them, so that a node that dies loses none of the messages other nodes
sent to its sessions (RFC 6121 section 8.5.3.2.1: a message for a
resource that is gone is handled as if sent to the bare JID; with no
resource left, XEP-0160 offline storage takes it).

Every stanza a node sends to another carries a sequence number per
destination; the receiver reports the highest it handed to a session in
every heartbeat.  The sender keeps the chat and normal messages not yet
confirmed, at most C{limit} per destination (the oldest go first, with a
warning).  When a destination dies, what it never confirmed is handed
back as undeliverable.  A message the dead node delivered in its last
heartbeat interval is then delivered again: twice rather than never.

A message written to a session with stream management (XEP-0198) is at
risk until the client acknowledges it: if the node dies first, the
client never had it for sure.  So the receiving node confirms a message
to such a session only once the client's C{<a h/>} covers it, or the
session ended (then its unacknowledged stanzas were dealt with as for a
resource that is gone, XEP-0198 section 4); until then the sender keeps
it, and retries it to offline storage if the receiving node dies.
"""

import collections

from jabberd.logs import Logger
from jabberd.sm.acks import MODULO

__all__ = ["InFlight", "keepsForRetry"]


def keepsForRetry(stanza):
    """Whether C{stanza} would go to offline storage if its session were gone (chat, normal)."""
    return stanza.name == "message" and stanza.getAttribute("type") in (None, "", "chat", "normal")


class InFlight:
    """
    @ivar limit: the most unconfirmed messages kept per destination.
    @ivar received: sender node -> the highest sequence number handled here.
    """

    log = Logger()

    def __init__(self, limit):
        self.limit = limit
        self._next = collections.defaultdict(int)
        self._kept = collections.defaultdict(collections.deque)
        self._awaiting = collections.defaultdict(collections.deque)
        self._dropped = collections.defaultdict(int)
        self.received = {}

    def sent(self, node, stanza):
        """The number of C{stanza}, now on its way to C{node}; kept if it may need a retry."""
        self._next[node] += 1
        seq = self._next[node]
        if keepsForRetry(stanza):
            kept = self._kept[node]
            if len(kept) >= self.limit:
                kept.popleft()
                self._dropped[node] += 1
                if self._dropped[node] % 1000 == 1:  # the first, then one in a thousand
                    self.log.warn("more than {limit} messages unconfirmed by {node}; "
                                  "{count} oldest will not be retried", limit=self.limit,
                                  node=node, count=self._dropped[node])
            kept.append((seq, stanza))
        return seq

    def confirmed(self, node, seq):
        """C{node} handled everything up to C{seq}: forget it."""
        kept = self._kept.get(node)
        while kept and kept[0][0] <= seq:
            kept.popleft()

    def pending(self, node):
        """How many messages to C{node} are not confirmed yet."""
        return len(self._kept.get(node, ()))

    def handled(self, node, seq, session=None):
        """
        A stanza from C{node} numbered C{seq} was handed to C{session} here:
        with stream management, it counts once the client acknowledged it.
        """
        if not isinstance(seq, int):
            return
        if seq > self.received.get(node, 0):
            self.received[node] = seq
        management = getattr(session, "management", None)
        if management is not None and not management.ending:
            awaiting = self._awaiting[node]
            if len(awaiting) >= self.limit:
                awaiting.popleft()  # the sender keeps no more than this either
            awaiting.append((seq, session, management, management.sent))

    def confirmable(self):
        """
        Sender node -> the highest number this node confirms: everything
        handled up to the first message a client has not acknowledged yet.
        """
        confirmed = dict(self.received)
        for node, awaiting in list(self._awaiting.items()):
            # Settled ones go wherever they are: one client slow to
            # acknowledge holds the confirmation back, not the memory.
            left = collections.deque(entry for entry in awaiting if not _settled(*entry[1:]))
            if left:
                self._awaiting[node] = left
                confirmed[node] = left[0][0] - 1
            else:
                del self._awaiting[node]
        return confirmed

    def lost(self, node):
        """
        C{node} is gone: what it never confirmed, oldest first.  What this
        node heard from it is forgotten (a new process numbers from 1), but
        this node's numbering towards it goes on: if C{node} was only cut
        off and still counts what it had from here, a confirmation it sends
        for an old number cannot cover a message sent since.
        """
        kept = self._kept.pop(node, ())
        self.received.pop(node, None)
        self._dropped.pop(node, None)
        self._awaiting.pop(node, None)
        return [stanza for _, stanza in kept]


def _settled(session, management, position):
    """
    Whether the stanza written at C{position} of C{management}'s count is
    safe: acknowledged by the client, or its session is over (its
    unacknowledged stanzas were handed on) or no longer counts it.
    """
    if not session.active or management.ending or session.management is not management:
        return True
    return (management.acked - position) % MODULO < MODULO // 2
