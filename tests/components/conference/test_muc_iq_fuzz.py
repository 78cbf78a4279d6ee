"""
Property tests for the conference component's iq payload parsing: for
every iq route of its host (XEP-0045 admin and owner, disco, MAM,
jabber:iq:conference, browse, version), iqs of type get and set with
random payloads in that namespace go to the service and to a room, from
the room's owner, an occupant and a stranger.

RFC 6120 section 8.2.3: each gets exactly one reply to its sender, of type
result or error, with the iq's id; nothing raises or logs a failure.
"""

from hypothesis import given, strategies as st

from tests.components.conference.muchelpers import (OWNER, ROOM, SERVICE, Conference,
                                                    errorCondition, parseXml)
from tests.fuzzing import LoggedFailures, fuzzSettings
from tests.sm.test_iq_fuzz import iqs

OCCUPANT = "alice@localhost/r"
STRANGER = "mallory@localhost/r"


def routes():
    keys = Conference().host.iqRoutes._methods
    return sorted(key for key in keys if key[0] in ("get", "set"))


ROUTES = routes()


@st.composite
def requests(draw):
    """(sender, iq) with a random route's payload, to the service or the room."""
    sender = draw(st.sampled_from([OWNER, OCCUPANT, STRANGER]))
    return sender, draw(iqs(ROUTES, (SERVICE, ROOM, "other@" + SERVICE), sender))


def check(stanzas):
    """The property, for a created room with an occupant, fed C{stanzas} in turn."""
    with LoggedFailures() as logged:
        conference = Conference()
        conference.createInstant(OWNER)
        conference.join(OCCUPANT, "alice")
        for number, (sender, text) in enumerate(stanzas):
            iqId = "fuzz%d" % number
            sent = conference.send(parseXml(text.replace("id='fuzz'", "id='%s'" % iqId, 1)))
            replies = [e for e in sent if e.name == "iq" and e.getAttribute("id") == iqId]
            assert len(replies) == 1, (text, [e.toXml() for e in sent])
            assert replies[0].getAttribute("to") == sender
            assert replies[0].getAttribute("type") in ("result", "error"), replies[0].toXml()
            logged.check()


def test_routesAreFound():
    """The fuzzed routes include the XEP-0045 admin and owner namespaces."""
    assert ("set", "http://jabber.org/protocol/muc#admin") in ROUTES
    assert ("get", "http://jabber.org/protocol/muc#owner") in ROUTES


@fuzzSettings(300, deadline=4000)
@given(st.lists(requests(), min_size=1, max_size=4))
def test_everyRouteAnswersRandomPayloads(stanzas):
    """Random payloads on every route of the component get exactly one result or error."""
    check(stanzas)


def test_payloadOtherThanQueryIsBadRequest():
    """
    Found by the property: an admin, owner, disco#info or jabber:iq:conference
    payload that is not <query/> is bad-request, where it raised before.
    """
    conference = Conference()
    conference.createInstant(OWNER)
    for iqType, namespace in (("get", "http://jabber.org/protocol/muc#admin"),
                              ("set", "http://jabber.org/protocol/muc#admin"),
                              ("get", "http://jabber.org/protocol/muc#owner"),
                              ("set", "http://jabber.org/protocol/muc#owner"),
                              ("get", "http://jabber.org/protocol/disco#info"),
                              ("set", "jabber:iq:conference")):
        with LoggedFailures() as logged:
            [reply] = conference.send("<iq type='%s' id='q' from='%s' to='%s'><item xmlns='%s'/>"
                                      "</iq>" % (iqType, OWNER, ROOM, namespace))
        logged.check()
        assert reply.getAttribute("type") == "error", reply.toXml()
        assert errorCondition(reply) == "bad-request", (namespace, reply.toXml())
