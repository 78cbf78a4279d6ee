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
"""

import collections

from jabberd.logs import Logger

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
        self.received = {}

    def sent(self, node, stanza):
        """The number of C{stanza}, now on its way to C{node}; kept if it may need a retry."""
        self._next[node] += 1
        seq = self._next[node]
        if keepsForRetry(stanza):
            kept = self._kept[node]
            if len(kept) >= self.limit:
                kept.popleft()
                self.log.warn("more than {limit} messages unconfirmed by {node}; "
                              "the oldest would not be retried", limit=self.limit, node=node)
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

    def handled(self, node, seq):
        """A stanza from C{node} numbered C{seq} was handled here."""
        if isinstance(seq, int) and seq > self.received.get(node, 0):
            self.received[node] = seq

    def lost(self, node):
        """C{node} is gone: what it never confirmed, oldest first; its numbering restarts."""
        kept = self._kept.pop(node, ())
        self._next.pop(node, None)
        self.received.pop(node, None)
        return [stanza for _, stanza in kept]
