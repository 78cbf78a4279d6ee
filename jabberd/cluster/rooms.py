# -*- test-case-name: tests.cluster.test_rooms -*-
"""
Multi-User Chat rooms (XEP-0045) across a cluster: every node runs the
conference component on the shared room store, and each room lives on
one node at a time, which every other node forwards the room's stanzas
to.

A room's node is the one that claimed it, as the room directory says; a
room nobody claimed goes to the alive node that rendezvous hashing
(highest random weight of room and node name) picks, which claims it on
the first stanza.  A node joining takes no claimed room away; when a node
dies its claims lapse, its rooms go to the next node by the same hash,
and the conference services read the stored (persistent) rooms again, so
a persistent room comes back with its configuration, affiliations,
subject and archive (occupants join again, as after a restart).  Two
nodes that claim one room at once settle on the hash's choice.

A claim lasts while its room exists on the node: when a temporary room
vanishes with its last occupant (XEP-0045 section 4.2: "temporary room"),
is destroyed (section 10.9), or a stanza claimed a room that does not
exist, the claim is released and announced, so the directory holds no more
claims than there are rooms and the room may next live on the hash's node.
A persistent room keeps its claim while it exists: another node's copy of
it was read from the store at that node's start and may be stale.
"""

import hashlib

from jabberd.jidutil import bareOf, parseJID
from jabberd.router import Route

__all__ = ["RoomRoute", "RoomDirectory", "weight", "roomOf"]


def roomOf(stanza):
    """The prepared bare JID C{stanza} is addressed to (a room, or the service itself)."""
    to = stanza.getAttribute("to") or ""
    jid = parseJID(to)
    return jid.userhost() if jid is not None else bareOf(to)


def weight(room, node):
    """The rendezvous weight of C{node} for C{room}: the highest weight wins."""
    return hashlib.blake2b(f"{room}\0{node}".encode("utf-8"), digest_size=8).digest()


class RoomDirectory:
    """
    @ivar owners: room bare JID -> node name.
    """

    def __init__(self, cluster):
        self.cluster = cluster
        self.owners = {}

    def preferred(self, room):
        """The alive node the hash picks for C{room}."""
        return max(self.cluster.membership.alive(), key=lambda node: weight(room, node))

    def ownerOf(self, room):
        """The node C{room} lives on; a room nobody holds goes to the hash's node."""
        owner = self.owners.get(room)
        if owner is None:
            owner = self.preferred(room)
            if owner == self.cluster.node:
                self.claim(room)
        return owner

    def claim(self, room):
        """This node holds C{room} now; everyone is told."""
        if self.owners.get(room) != self.cluster.node:
            self.owners[room] = self.cluster.node
            self.cluster.announce("room", room=room)

    def release(self, room):
        """This node no longer holds C{room} (it is gone here): everyone is told."""
        if self.owners.get(room) == self.cluster.node:
            del self.owners[room]
            self.cluster.announce("room", room=room, released=True)

    def released(self, room, node):
        """C{node} no longer holds C{room}."""
        if self.owners.get(room) == node:
            del self.owners[room]

    def claimed(self, room, node):
        """C{node} claims C{room}; against a claim of this node, the hash decides."""
        mine = self.owners.get(room) == self.cluster.node
        if mine and weight(room, self.cluster.node) > weight(room, node):
            return
        self.owners[room] = node

    def mine(self):
        """The rooms this node holds."""
        return [room for room, node in self.owners.items() if node == self.cluster.node]

    def countByNode(self):
        """node -> how many rooms it holds."""
        counts = {}
        for node in self.owners.values():
            counts[node] = counts.get(node, 0) + 1
        return counts

    def nodeGone(self, node):
        """C{node}'s claims lapse: its rooms go where the hash sends them next."""
        for room in [r for r, n in self.owners.items() if n == node]:
            del self.owners[room]


class RoomRoute(Route):
    """
    The route of a conference domain on a node: a room's stanzas go to the
    node that holds it; the service's own address (disco on the domain,
    XEP-0045 section 6.1) is answered here.

    @ivar local: the route to this node's conference host.
    """

    def __init__(self, cluster, local):
        self.cluster = cluster
        self.local = local
        self.domain = local.domain
        self.trusted = local.trusted

    def deliver(self, stanza):
        room = roomOf(stanza)
        if "@" not in room:
            self.local.deliver(stanza)
            return
        owner = self.cluster.rooms.ownerOf(room)
        if owner == self.cluster.node:
            self.deliverHere(room, stanza)
        else:
            self.cluster.toRoom(owner, stanza)

    def deliverHere(self, room, stanza):
        """
        Deliver C{stanza} to C{room}, held by this node: if no room is
        left afterwards (the stanza created none, or the room vanished
        with it), the claim goes.
        """
        self.local.deliver(stanza)
        muc = getattr(getattr(self.local, "host", None), "muc", None)
        if muc is not None and muc.ready and muc.room(room) is None:
            self.cluster.rooms.release(room)

    def mayClaim(self, address):
        return self.local.mayClaim(address)
