"""Tests for L{jabberd.cluster.rooms}: each room lives on one node."""

from jabberd.cluster.rooms import RoomDirectory, RoomRoute, weight
from jabberd.router import Route
from tests.sm.helpers import parse


class Members:
    def __init__(self, names):
        self.names = names

    def alive(self):
        return sorted(self.names)


class Node:
    """Stands in for the cluster node."""

    def __init__(self, name, alive):
        self.node = name
        self.membership = Members(alive)
        self.said = []
        self.forwarded = []
        self.rooms = RoomDirectory(self)

    def announce(self, op, **fields):
        self.said.append((op, fields))

    def toRoom(self, node, stanza):
        self.forwarded.append((node, stanza["to"]))


class Local(Route):
    domain = "conference.localhost"

    def __init__(self):
        self.delivered = []

    def deliver(self, stanza):
        self.delivered.append(stanza["to"])


def roomFor(node, names):
    for n in range(1000):
        room = f"r{n}@conference.localhost"
        if max(names, key=lambda name: weight(room, name)) == node:
            return room


def test_unclaimedRoomGoesToHashNode():
    """A room nobody holds goes to the node the hash picks, which claims it."""
    names = ["n1", "n2"]
    here = Node("n1", names)
    mine, theirs = roomFor("n1", names), roomFor("n2", names)
    local = Local()
    route = RoomRoute(here, local)
    route.deliver(parse(f"<presence to='{mine}/nick'/>"))
    route.deliver(parse(f"<presence to='{theirs}/nick'/>"))
    assert local.delivered == [mine + "/nick"]
    assert here.forwarded == [("n2", theirs + "/nick")]
    assert here.said == [("room", {"room": mine})]


def test_serviceAddressAnsweredHere():
    """Stanzas to the conference domain itself are answered by this node."""
    here = Node("n1", ["n1", "n2"])
    local = Local()
    RoomRoute(here, local).deliver(parse("<iq to='conference.localhost' type='get'/>"))
    assert local.delivered == ["conference.localhost"]


def test_claimedRoomStaysWhenNodeJoins():
    """A claimed room keeps its node when another node joins."""
    here = Node("n1", ["n1"])
    room = roomFor("n2", ["n1", "n2"])
    assert here.rooms.ownerOf(room) == "n1"
    here.membership.names.append("n2")
    assert here.rooms.ownerOf(room) == "n1"


def test_deadNodesRoomsMove():
    """A dead node's claims lapse; its rooms go where the hash sends them now."""
    here = Node("n1", ["n1", "n3"])
    here.rooms.claimed("a@conference.localhost", "n2")
    assert here.rooms.ownerOf("a@conference.localhost") == "n2"
    here.rooms.nodeGone("n2")
    assert here.rooms.ownerOf("a@conference.localhost") in ("n1", "n3")


def test_competingClaimsSettleByHash():
    """Two nodes claiming one room: the one the hash prefers keeps it, on both."""
    names = ["n1", "n2"]
    room = roomFor("n1", names)
    first, second = Node("n1", names), Node("n2", names)
    first.rooms.claim(room)
    second.rooms.claim(room)
    first.rooms.claimed(room, "n2")
    second.rooms.claimed(room, "n1")
    assert first.rooms.owners[room] == second.rooms.owners[room] == "n1"
    assert first.rooms.countByNode() == {"n1": 1} and first.rooms.mine() == [room]


def conferenceRoute(here):
    """The room route of C{here} over a real conference host (in memory), released hooked in."""
    from jabberd.router import HostRoute
    from tests.components.conference.muchelpers import Conference

    conference = Conference()
    conference.service.roomGoneHooks.append(here.rooms.release)
    route = RoomRoute(here, HostRoute(conference.host, "conference.localhost"))
    return conference, route


def test_emptiedTemporaryRoomReleasesItsClaim():
    """A temporary room that vanishes with its last occupant gives up its claim, announced."""
    from tests.components.conference.muchelpers import parseXml

    names = ["n1"]
    here = Node("n1", names)
    conference, route = conferenceRoute(here)
    room = roomFor("n1", names)
    route.deliver(parseXml(f"<presence from='a@localhost/r' to='{room}/A'>"
                           "<x xmlns='http://jabber.org/protocol/muc'/></presence>"))
    assert here.rooms.owners == {room: "n1"} and conference.room(room) is not None
    route.deliver(parseXml(f"<presence from='a@localhost/r' to='{room}/A' type='unavailable'/>"))
    assert conference.room(room) is None
    assert here.rooms.owners == {}
    assert here.said[-1] == ("room", {"room": room, "released": True})


def test_stanzaToMissingRoomKeepsNoClaim():
    """A message to a room that does not exist is answered, and leaves no claim behind."""
    from tests.components.conference.muchelpers import parseXml

    here = Node("n1", ["n1"])
    conference, route = conferenceRoute(here)
    for n in range(5):
        route.deliver(parseXml(f"<message from='a@localhost/r' to='gone{n}@conference.localhost'"
                               " type='groupchat'><body>hi</body></message>"))
    assert len(conference.take()) == 5  # each one answered with an error
    assert here.rooms.owners == {}


def test_releaseByOtherNodeLetsTheRoomMove():
    """A room another node released goes to the hash's node again; a stale release is ignored."""
    names = ["n1", "n2"]
    here = Node("n1", names)
    room = roomFor("n1", names)
    here.rooms.claimed(room, "n2")
    here.rooms.released(room, "n3")
    assert here.rooms.owners[room] == "n2"
    here.rooms.released(room, "n2")
    assert here.rooms.ownerOf(room) == "n1"
