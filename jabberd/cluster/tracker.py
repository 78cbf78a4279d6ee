# -*- test-case-name: tests.cluster.test_tracker -*-
"""
Tells the cluster about this node's sessions: a handler of the session
manager whose hooks announce each bind, presence broadcast (RFC 6121
sections 4.2, 4.4 and 4.5), roster request (section 2.1.6: the resource
becomes interested in roster pushes), carbons request (XEP-0280 sections 4
and 5: other nodes copy the user's messages to it, or stop) and end to the
session directory (L{jabberd.cluster.directory}).

It runs in the routing stage, before the presence handler takes the
broadcast, and takes nothing.
"""

import time

from jabberd.handler import Handler, Stage
from jabberd.cluster.wire import stanzaText
from jabberd.ns import NS_CARBONS, NS_ROSTER
from jabberd.sm.presence import priorityOf
from jabberd.stanza import firstChild

__all__ = ["SessionTracker"]


class SessionTracker(Handler):
    """
    @ivar cluster: the L{jabberd.cluster.node.ClusterNode} that announces.
    """

    handlerName = "cluster"
    stage = Stage.ROUTING

    def __init__(self, cluster):
        self.cluster = cluster

    def sessionBound(self, session):
        """A resource was bound here: the later bind of a full JID wins cluster-wide."""
        at = time.time()
        self.cluster.directory.boundAt[session.full] = at
        fields = {}
        if session.presence is not None:
            # Resumed here from another node (XEP-0198 section 5): already
            # available, which its contacts and resources know.
            fields.update(presence=stanzaText(session.presence), priority=session.priority,
                          interested=session.interested, resumed=True)
            carbons = self.cluster.directory.sm.handler("carbons")
            if carbons is not None and carbons.isEnabled(session):
                fields["carbons"] = True
        self.cluster.announce("bound", full=session.full, at=at, **fields)

    def sessionEnded(self, session):
        """The session is gone for good (not when handed to another node)."""
        self.cluster.directory.boundAt.pop(session.full, None)
        if session.full not in self.cluster.directory.quiet:
            self.cluster.announce("ended", full=session.full)

    def onOutbound(self, session, stanza):
        """Presence broadcasts and roster requests change what other nodes know."""
        if stanza.name == "presence":
            if not stanza.getAttribute("to"):
                self._presence(session, stanza)
        elif stanza.name == "iq":
            query = firstChild(stanza)
            if query is None:
                return False
            if (query.uri == NS_ROSTER and not session.interested
                    and stanza.getAttribute("type") == "get" and not stanza.getAttribute("to")):
                self.cluster.announce("update", full=session.full, interested=True)
            elif (query.uri == NS_CARBONS and stanza.getAttribute("type") == "set"
                  and query.name in ("enable", "disable")
                  and stanza.getAttribute("to") in (None, session.bare, session.jid.host)):
                self.cluster.announce("update", full=session.full,
                                      carbons=query.name == "enable")
        return False

    def _presence(self, session, stanza):
        presenceType = stanza.getAttribute("type")
        if presenceType is None:
            self.cluster.announce("update", full=session.full, priority=priorityOf(stanza),
                                  presence=stanzaText(stanza))
        elif presenceType == "unavailable":
            self.cluster.announce("update", full=session.full, presence=None)
