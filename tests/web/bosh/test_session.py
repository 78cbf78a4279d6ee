"""
Tests for L{jabberd.web.bosh.session} and L{jabberd.web.bosh.stream}: BOSH sessions
(XEP-0124) carrying the client stream (XEP-0206), driven through the HTTP
resource with fake requests and a fake clock.
"""

from tests.web.bosh.helpers import NS_HTTPBIND, NS_XBOSH, REMOTE, Rig, body, plain
from tests.c2s.helpers import child, login

NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl"
NS_BIND = "urn:ietf:params:xml:ns:xmpp-bind"
NS_STREAMS = "http://etherx.jabber.org/streams"


def message(to, text):
    return "<message xmlns='jabber:client' to='%s' type='chat'><body>%s</body></message>" % (to, text)


def payloads(request):
    return list(request.response().elements())


def bodies(client):
    """The message bodies a c2s test client received."""
    return [str(child(e, "body")) for e in client.output.read() if e.name == "message"]


# session creation (XEP-0124 section 7, XEP-0206 section 4)

def test_creationResponse():
    """The creation response carries the session's attributes and the stream features."""
    rig = Rig()
    request = rig.post(body(rid="1000", to="localhost", wait="30", hold="1", ver="1.6",
                            xmpp_version="1.0"))
    response = request.response()
    assert (response.uri, response.name) == (NS_HTTPBIND, "body")
    for name, value in (("wait", "30"), ("hold", "1"), ("requests", "2"), ("ver", "1.6"),
                        ("from", "localhost"), ("ack", "1000"), ("inactivity", "60"),
                        ("polling", "2"), ("maxpause", "300")):
        assert response[name] == value, name
    assert len(response["sid"]) >= 16 and len(response["authid"]) >= 16
    assert response[(NS_XBOSH, "version")] == "1.0"
    assert response[(NS_XBOSH, "restartlogic")] == "true"
    [features] = response.elements()
    assert (features.uri, features.name) == (NS_STREAMS, "features")
    mechanisms = child(features, "mechanisms", NS_SASL)
    assert "PLAIN" in [str(m) for m in mechanisms.elements()]
    raw = b"".join(request.written)
    assert b"xmlns:stream='http://etherx.jabber.org/streams'" in raw
    assert b"<stream:features>" in raw
    assert request.responseHeaders.getRawHeaders(b"content-type") == [b"text/xml; charset=utf-8"]


def test_waitAndHoldAreCapped():
    """A client asking for more than the configured maximums gets the maximums."""
    _, response = Rig().create(wait="3600", hold="5")
    assert (response["wait"], response["hold"], response["requests"]) == ("60", "1", "2")


def test_contentAttributeSetsContentType():
    """The 'content' attribute of the creation request is the responses' Content-Type."""
    rig = Rig()
    rig.create(content="text/plain; charset=utf-8")
    request = rig.next()
    rig.clock.advance(30)
    assert request.responseHeaders.getRawHeaders(b"content-type") == [b"text/plain; charset=utf-8"]


def test_contentAttributeCannotAskForHTML():
    """A response is never labelled HTML, whatever the client asks for."""
    rig = Rig()
    rig.create(content="text/html; charset=utf-8")
    request = rig.next()
    rig.clock.advance(30)
    assert request.responseHeaders.getRawHeaders(b"content-type") == [b"text/xml; charset=utf-8"]


def test_unknownHostTerminates():
    """A session to a domain not served ends at once with host-unknown."""
    rig = Rig()
    _, response = rig.create(to="elsewhere.example")
    assert (response["type"], response["condition"]) == ("terminate", "host-unknown")
    assert rig.resource.sessions == {}


def test_plainHTTPFromAnotherHostNeedsTLS():
    """Over plain HTTP from a remote address nothing can authenticate (require_tls)."""
    rig = Rig()
    request = rig.post(body(rid="5", to="localhost", xmpp_version="1.0"), client=REMOTE)
    [features] = request.response().elements()
    assert child(features, "mechanisms", NS_SASL) is None


def test_httpsFromAnotherHostIsSecure():
    """Over HTTPS a remote client is offered PLAIN and SCRAM."""
    rig = Rig()
    request = rig.post(body(rid="5", to="localhost", xmpp_version="1.0"), client=REMOTE,
                       secure=True)
    [features] = request.response().elements()
    assert child(features, "mechanisms", NS_SASL) is not None


def test_loginRestartAndBind():
    """SASL, an xmpp:restart request and binding give a bound session (XEP-0206 section 5)."""
    rig = Rig()
    rig.create()
    [success] = payloads(rig.next(plain("alice", "pw")))
    assert (success.uri, success.name) == (NS_SASL, "success")
    [features] = payloads(rig.next(xmpp_restart="true", to="localhost"))
    assert child(features, "bind", NS_BIND) is not None
    [result] = payloads(rig.next("<iq xmlns='jabber:client' type='set' id='b'><bind xmlns='%s'>"
                                 "<resource>web</resource></bind></iq>" % NS_BIND))
    assert (result.uri, result["type"]) == ("jabber:client", "result")
    assert rig.server.sm.session("alice@localhost/web") is not None


def test_restartBeforeAuthenticationIsBadRequest():
    """A restart request while the stream was not reset ends the session with bad-request."""
    rig = Rig()
    rig.create()
    response = rig.next(xmpp_restart="true").response()
    assert (response["type"], response["condition"]) == ("terminate", "bad-request")


# held requests (sections 8 and 9)

def test_emptyResponseAfterWait():
    """A held request is answered empty when 'wait' seconds pass without data."""
    rig = Rig()
    rig.login()
    request = rig.next()
    rig.clock.advance(29)
    assert not request.answered
    rig.clock.advance(1)
    response = request.response()
    assert response.children == [] and not response.hasAttribute("type")


def test_heldRequestAnsweredWhenDataArrives():
    """A stanza for the client is sent at once on the held request, in jabber:client."""
    rig = Rig()
    rig.login()
    request = rig.next()
    bob = login(rig.server, "bob", "pw", "tcp")
    bob.send(message("alice@localhost/web", "hello"))
    rig.clock.advance(0)
    [received] = payloads(request)
    assert (received.uri, received.name) == ("jabber:client", "message")
    assert received["from"] == "bob@localhost/tcp"


def test_stanzasOfOneTurnShareAResponse():
    """Stanzas sent in the same reactor turn leave in one response."""
    rig = Rig()
    rig.login()
    request = rig.next()
    bob = login(rig.server, "bob", "pw", "tcp")
    bob.send(message("alice@localhost/web", "one") + message("alice@localhost/web", "two"))
    rig.clock.advance(0)
    assert [str(child(m, "body")) for m in payloads(request)] == ["one", "two"]


def test_messageBetweenBOSHSessionsLeavesWithItsRequest():
    """
    A message from one BOSH session to another answers the recipient's held request while the
    sender's request is handled, before the reactor turn ends; the sender's older held request
    is released empty right after.
    """
    rig = Rig()
    bobSid = rig.login("bob", resource="web")
    bobRid = rig.rid
    bobHeld = rig.post(body(sid=bobSid, rid=bobRid + 1))
    rig.rid += 100
    aliceSid = rig.login("alice")
    aliceHeld = rig.next()
    rig.clock.advance(2)  # not faster than 'polling'
    answered = []
    bobHeld.notifyFinish().addCallback(lambda _: answered.append("bob"))
    aliceHeld.notifyFinish().addCallback(lambda _: answered.append("alice"))
    sent = rig.next(message("bob@localhost/web", "now"))
    assert [str(child(m, "body")) for m in payloads(bobHeld)] == ["now"]
    assert answered == ["bob", "alice"] and not sent.answered
    assert not rig.clock.getDelayedCalls() or all(
        call.getTime() > rig.clock.seconds() for call in rig.clock.getDelayedCalls())
    assert rig.resource.sessions[aliceSid] is not rig.resource.sessions[bobSid]


def test_holdIsHonoured():
    """With hold=1 a new request releases the held one; the new one is held."""
    rig = Rig()
    rig.login()
    first = rig.next()
    rig.clock.advance(2)  # not faster than 'polling'
    second = rig.next()
    assert first.answered and first.response().children == []
    assert first.response()["ack"] == str(rig.rid)  # section 9.1: all up to it arrived
    assert not second.answered


def test_clientPayloadsReachTheServerInRidOrder():
    """A request that arrives early waits until the one before it arrives (section 14.2)."""
    rig = Rig()
    rig.login()
    bob = login(rig.server, "bob", "pw", "tcp")
    bob.output.read()
    rid = rig.rid
    later = rig.post(body(message("bob@localhost/tcp", "two"), sid=rig.sid, rid=rid + 2))
    assert bodies(bob) == []
    earlier = rig.post(body(message("bob@localhost/tcp", "one"), sid=rig.sid, rid=rid + 1))
    assert bodies(bob) == ["one", "two"]
    assert earlier.answered and not later.answered


def test_ridBeyondWindowIsItemNotFound():
    """A rid past the request window ends the session with item-not-found."""
    rig = Rig()
    rig.login()
    response = rig.post(body(sid=rig.sid, rid=rig.rid + 3)).response()
    assert (response["type"], response["condition"]) == ("terminate", "item-not-found")
    assert rig.session is None


def test_unknownSidIsItemNotFound():
    """A request naming no live session gets item-not-found."""
    response = Rig().post(body(sid="nope", rid="7")).response()
    assert (response["type"], response["condition"]) == ("terminate", "item-not-found")


def test_repeatedRidGetsTheSameResponse():
    """A repeated rid is answered with the cached copy of its response (section 14.3)."""
    rig = Rig()
    rig.create()
    first = rig.next(plain("alice", "pw"))
    again = rig.post(body(plain("alice", "pw"), sid=rig.sid, rid=rig.rid))
    assert b"".join(again.written) == b"".join(first.written)
    assert rig.server.sm.sessions == {}  # nothing was processed twice


def test_forgottenRidIsItemNotFound():
    """A rid whose response left the cache cannot be repeated."""
    rig = Rig()
    rig.login()
    old = rig.rid - 2
    response = rig.post(body(sid=rig.sid, rid=old)).response()
    assert (response["type"], response["condition"]) == ("terminate", "item-not-found")


def test_repeatedHeldRidTakesOver():
    """Sending a held request again answers the old copy empty and holds the new one."""
    rig = Rig()
    rig.login()
    held = rig.next()
    again = rig.post(body(sid=rig.sid, rid=rig.rid))
    assert held.answered and held.response().children == []
    assert not again.answered
    rig.clock.advance(30)
    assert again.answered


def test_lostRequestKeepsItsData():
    """Data for a request whose connection dropped leaves with the next request."""
    rig = Rig()
    rig.login()
    held = rig.next()
    held.lose()
    bob = login(rig.server, "bob", "pw", "tcp")
    bob.send(message("alice@localhost/web", "kept"))
    rig.clock.advance(0)
    assert not held.answered
    [kept] = payloads(rig.next())
    assert str(child(kept, "body")) == "kept"


def test_lostRequestMaySendAgain():
    """A request whose connection dropped unanswered may be sent again and is held (section 14.3)."""
    rig = Rig()
    rig.login()
    held = rig.next()
    held.lose()
    again = rig.post(body(sid=rig.sid, rid=rig.rid))
    assert not again.answered
    bob = login(rig.server, "bob", "pw", "tcp")
    bob.send(message("alice@localhost/web", "still here"))
    rig.clock.advance(0)
    [kept] = payloads(again)
    assert str(child(kept, "body")) == "still here"


# overactivity (sections 11 and 12)

def test_tooManySimultaneousRequestsArePolicyViolation():
    """More open requests than 'requests' ends the session with policy-violation."""
    rig = Rig()
    rig.login()
    rid = rig.rid
    rig.next()
    presence = "<presence xmlns='jabber:client'/>"
    rig.post(body(presence, sid=rig.sid, rid=rid + 3))
    response = rig.post(body(presence, sid=rig.sid, rid=rid + 2)).response()
    assert (response["type"], response["condition"]) == ("terminate", "policy-violation")
    assert rig.session is None


def test_emptyRequestsTooFastArePolicyViolation():
    """An empty request while all others are held, within 'polling' seconds, is overactivity."""
    rig = Rig()
    rig.login()
    rig.next()
    response = rig.next().response()
    assert (response["type"], response["condition"]) == ("terminate", "policy-violation")


def test_pollingSessionMayPollAtItsPace():
    """A polling session (hold=0) is answered at once and may poll every 'polling' seconds."""
    rig = Rig()
    rig.create(hold="0")
    assert rig.next().response().children == []
    rig.clock.advance(2)
    assert rig.next().response().children == []
    response = rig.next().response()
    assert (response["type"], response["condition"]) == ("terminate", "policy-violation")


def test_waitZeroIsAPollingSession():
    """With wait=0 no request is held: each is answered at once."""
    rig = Rig()
    rig.create(wait="0")
    assert rig.next().answered


# the end of a session

def test_inactivityEndsTheSession():
    """No request for 'inactivity' seconds ends the session; contacts get unavailable presence."""
    rig = Rig()
    rig.login()
    rig.next("<presence xmlns='jabber:client' to='bob@localhost/tcp'/>")
    bob = login(rig.server, "bob", "pw", "tcp")
    rig.clock.advance(30)  # the held request is answered empty
    bob.output.read()
    rig.clock.advance(59)
    assert rig.session is not None
    rig.clock.advance(1)
    rig.clock.advance(0)
    assert rig.session is None
    assert rig.server.sm.session("alice@localhost/web") is None
    [gone] = [e for e in bob.output.read() if e.name == "presence"]
    assert (gone["from"], gone["type"]) == ("alice@localhost/web", "unavailable")


def test_terminateFromClient():
    """A type='terminate' request sends its payloads, is answered terminate and ends the session."""
    rig = Rig()
    rig.login()
    held = rig.next()
    final = rig.next("<presence xmlns='jabber:client' type='unavailable'/>", type="terminate")
    assert held.answered
    assert final.response()["type"] == "terminate"
    rig.clock.advance(0)
    assert rig.session is None
    assert rig.server.sm.session("alice@localhost/web") is None


def test_pauseAnswersHeldRequestsAndStretchesInactivity():
    """A pause request answers everything now and allows that long without requests (section 10)."""
    rig = Rig()
    rig.login()
    held = rig.next()
    paused = rig.next(pause="120")
    assert held.answered and paused.answered
    rig.clock.advance(119)
    assert rig.session is not None
    rig.clock.advance(1)
    assert rig.session is None


def test_streamErrorIsRemoteStreamError():
    """A stream error ends the session with remote-stream-error carrying the stream:error."""
    rig = Rig()
    rig.create()
    response = rig.next(message("bob@localhost", "too early")).response()
    assert (response["type"], response["condition"]) == ("terminate", "remote-stream-error")
    error = child(response, "error", NS_STREAMS)
    assert child(error, "not-authorized") is not None
    assert rig.session is None


def test_replacedSessionLearnsOnItsNextRequest():
    """A session replaced while no request was held is told with its next request."""
    rig = Rig()
    first = rig.login()
    other = Rig.__new__(Rig)
    other.__dict__.update(rig.__dict__)
    other.rid = 5000
    other.login()  # the same full JID: the first session gets a conflict
    response = rig.post(body(sid=first, rid=rig.rid + 1)).response()
    assert (response["type"], response["condition"]) == ("terminate", "remote-stream-error")
    assert child(child(response, "error", NS_STREAMS), "conflict") is not None
    assert first not in rig.resource.sessions


def test_shutdownIsSystemShutdown():
    """Closing all client streams answers a held request with system-shutdown."""
    rig = Rig()
    rig.login()
    held = rig.next()
    rig.server.factory.closeAll()
    response = held.response()
    assert (response["type"], response["condition"]) == ("terminate", "system-shutdown")


def test_badPayloadEndsItsSession():
    """Restricted XML inside a known session's request ends that session with bad-request."""
    rig = Rig()
    rig.login()
    response = rig.next("<!-- comment -->").response()
    assert (response["type"], response["condition"]) == ("terminate", "bad-request")
    assert rig.session is None


def test_csiNonzasOverBOSH():
    """CSI's <inactive/> and <active/> in request bodies change the session's state, no error."""
    from jabberd.sm.csi import CSIHandler

    rig = Rig()
    csi = rig.server.sm.addHandler(CSIHandler())
    rig.login()
    session = rig.server.sm.session("alice@localhost/web")
    request = rig.next("<inactive xmlns='urn:xmpp:csi:0'/>")
    assert csi.isInactive(session)
    rig.next("<active xmlns='urn:xmpp:csi:0'/>")
    assert not csi.isInactive(session)
    assert rig.server.sm.session("alice@localhost/web") is session
    assert not [e for e in payloads(request) if e.name == "error"]


def test_sessionsPerAddressLimited():
    """BOSH sessions count as connections: past max_per_address a new one is terminated."""
    rig = Rig()
    rig.server.factory.limiter.maxPerAddress = 1
    first, response = rig.create()
    assert response.getAttribute("type") is None
    rig.rid = 2000
    _, refused = rig.create()
    assert (refused["type"], refused["condition"]) == ("terminate", "remote-stream-error")
    assert "<policy-violation" in refused.toXml()
    assert list(rig.resource.sessions) == [first]
    assert rig.server.factory.limiter.total == 1


def test_streamManagementOverBOSHWithoutResumption():
    """Over BOSH <enable resume='true'/> gets acks only (no SM-ID), and <r/> is answered."""
    from jabberd.sm.streammanagement import StreamManagementHandler

    rig = Rig()
    rig.server.sm.addHandler(StreamManagementHandler(clock=rig.server.clock))
    rig.login()
    [enabled] = [e for e in payloads(rig.next("<enable xmlns='urn:xmpp:sm:3' resume='true'/>"))
                 if e.name == "enabled"]
    assert enabled.getAttribute("id") is None and enabled.getAttribute("resume") is None
    [a] = [e for e in payloads(rig.next("<r xmlns='urn:xmpp:sm:3'/>")) if e.name == "a"]
    assert a["h"] == "0"


# shaping and queued output (issue 14: BOSH as TCP connections)

def pings(ids):
    return "".join("<iq xmlns='jabber:client' type='get' id='%s'><ping xmlns='urn:xmpp:ping'/>"
                   "</iq>" % i for i in ids)


def replyIds(request):
    return [e.getAttribute("id") for e in payloads(request) if e.name == "iq"]


def test_requestOverTheStanzaRateWaitsForTheBudget():
    """Past [c2s] stanza_rate, the session's next request is processed only once its budget is back."""
    rig = Rig(stanza_rate="10", stanza_burst="10")
    rig.login()
    first = rig.next(pings("p%d" % n for n in range(20)))
    rig.clock.advance(0)
    assert len(replyIds(first)) == 20
    second = rig.next(pings(["late"]))
    rig.clock.advance(1)
    assert not second.answered
    rig.clock.advance(0.5)
    assert replyIds(second) == ["late"]


def test_requestsUnderTheRateAreNotDelayed():
    """Requests within the rate are processed at once."""
    rig = Rig(stanza_rate="10", stanza_burst="10")
    rig.login()
    request = rig.next(pings(["a", "b"]))
    rig.clock.advance(0)
    assert replyIds(request) == ["a", "b"]


def test_outputNobodyFetchesIsBounded():
    """Output queued with no request held ends the session past [http] bosh_max_output."""
    rig = Rig()
    rig.server.config.http.boshMaxOutput = 3000
    rig.login()
    session = rig.session
    assert not session.held
    for n in range(5):
        session.stream.send(message("alice@localhost/web", "x" * 1000))
        if n < 2:
            assert rig.session is session and session.queued > 0
    assert rig.session is None and session.ended and session.outgoing == []


def test_outputUnderTheBoundWaitsForTheNextRequest():
    """Queued output under the bound leaves with the next request."""
    rig = Rig()
    rig.server.config.http.boshMaxOutput = 3000
    rig.login()
    rig.session.stream.send(message("alice@localhost/web", "x" * 1000))
    request = rig.next()
    rig.clock.advance(0)
    assert [e.name for e in payloads(request)] == ["message"]
    assert rig.session.queued == 0
