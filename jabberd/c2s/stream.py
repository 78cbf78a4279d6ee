# -*- test-case-name: tests.c2s.test_stream -*-
"""
The client-to-server stream (RFC 6120 sections 4, 7 and 8).

One implementation for every framing: TCP (with STARTTLS or direct TLS,
XEP-0368) uses it as it is; BOSH (XEP-0206) and WebSocket (RFC 7395) feed
it already parsed elements through L{ClientStream.onDocumentStart} and
L{ClientStream.onElement} and override only the framing methods
(C{sendHeader}, C{sendFooter}, C{send}, C{reset}, C{dropConnection},
C{sendKeepalive}) and the C{secure} flag.  Feature negotiation lives in
L{jabberd.c2s.negotiation.Negotiator} subclasses; stream restarts happen in
L{ClientStream.restart} only.

Once a resource is bound, a stanza goes from the parser to
L{jabberd.sm.manager.SessionManager.outbound} with two attribute checks in
between.

On TCP, L{jabberd.c2s.flow.FlowControl} stops reading from a client that
does not read its output or sends faster than its rate.
"""

import secrets

from twisted.internet import abstract
from twisted.internet.interfaces import ISSLTransport
from twisted.words.xish import domish
from twisted.words.xish.domish import escapeToXml

from jabberd.c2s.flow import FlowControl
from jabberd.c2s.liveness import Liveness
from jabberd.c2s.negotiation import IQ_PAYLOADS
from jabberd.dispatch import handles, index
from jabberd.jidutil import parseJID, preparedJID
from jabberd.listening import setNoDelay
from jabberd.ns import NS_CLIENT, NS_STREAMS
from jabberd.sm.session import Session
from jabberd.stanza import SERVER_NAMESPACES, STANZAS, toClientNamespace
from jabberd.xmlparser import HardenedXmlStream

__all__ = ["ClientStream", "parseVersion"]

_TABLES = {}


def dispatchTables(streamClass, classes):
    """
    (classes, first-level element key -> (position, function), iq payload
    namespace -> (position, function)) for a stream class and its list of
    negotiator classes, from the methods they mark (L{jabberd.dispatch}):
    the first negotiator class marking a key handles it, with the
    negotiator at that position; then the stream's own marks, with the
    position None.  Shared by every stream with the same classes.
    """
    classes = tuple(classes)
    tables = _TABLES.get((streamClass, classes))
    if tables is None:
        elements, iqs = {}, {}
        for position, klass in enumerate(classes):
            for key, function in index(klass).items():
                elements.setdefault(key, (position, function))
            for uri, function in index(klass, IQ_PAYLOADS).items():
                iqs.setdefault(uri, (position, function))
        for key, function in index(streamClass).items():
            elements.setdefault(key, (None, function))
        tables = _TABLES[streamClass, classes] = (classes, elements, iqs)
    return tables


def parseVersion(value):
    """
    The stream version as (major, minor); a missing or unreadable value is
    a pre-XMPP 1.0 stream (RFC 6120 section 4.7.5: treat it as 0.9).
    """
    major, dot, minor = (value or "").partition(".")
    if not dot or not major.isdigit() or not minor.isdigit():
        return (0, 9)
    return (int(major), int(minor))


#: What Twisted's TCP transport sets on itself only once it writes or is
#: paused (class attributes until then), in the order it sets them.
_WRITE_STATE = ("dataBuffer", "offset", "producerPaused")


def shareWriteState(transport):
    """
    Set on a new TCP transport, to the values they have, the attributes
    Twisted would set at its first write (L{_WRITE_STATE}).

    Why: CPython (3.11) keeps one key table per class for the attributes
    of its instances, and each instance only its values, but it lets the
    table grow by one name less with every instance made; names that
    appear only later (the first write is a reactor turn after the accept,
    by which time an accept storm has made dozens of transports) no longer
    fit, and every transport from then on gets a dict of its own, about
    540 bytes more per held connection (bench/README.md, "What a held
    connection costs").  Set at the first connection, the names are in the
    table for all.
    """
    if isinstance(transport, abstract.FileDescriptor):
        for name in _WRITE_STATE:
            setattr(transport, name, getattr(transport, name))


class ClientStream(HardenedXmlStream):
    """
    One client connection, from stream header to bound session.

    Until the client has authenticated, its stanzas are held to the
    C{before_auth} limits of C{[parser]} and it has C{[connections]
    auth_timeout} seconds to authenticate: an unauthenticated peer can
    make the server hold little, and not for long.

    @ivar factory: the L{jabberd.c2s.listener.C2SFactory}.
    @ivar secure: whether the stream is encrypted (STARTTLS done, direct
        TLS, or HTTPS for BOSH/WebSocket).
    @ivar domain: the local domain the client addressed.
    @ivar username: the authenticated (nodeprep'd) localpart, or None.
    @ivar session: the bound L{Session}, or None.
    @ivar negotiators: this stream's L{Negotiator}s, in feature order.
        Once a resource is bound they are dropped, and the rare element or
        iq still meant for one (a legacy session iq, a second bind) gets a
        fresh one: after binding a negotiator decides from the stream's
        state alone.
    @ivar maxAuthFailures: failed authentications before the stream is
        closed (RFC 6120 section 6.4.5).
    @ivar maxHeld: elements kept while an asynchronous step (a storage
        look-up) is pending; more is a C{policy-violation}.
    @ivar restAfter: seconds without input after which the parser is
        freed until more arrives (L{HardenedXmlStream.hibernate}): a fresh
        parser is cheap to make, an idle one costs memory for as long as
        the stream rests.
    @ivar cacheFeatures: whether L{sendFeatures} may reuse the serialised
        features of the phase (framings that wrap elements themselves
        build them each time).
    @ivar flow: the connection's L{FlowControl} (TCP only), or None.
    @ivar resumable: whether a session on this framing may outlive its
        connection (XEP-0198 section 5): when the connection is lost
        without the stream being closed, the session is detached instead
        of ended.
    """

    namespace = NS_CLIENT
    initiating = False
    maxAuthFailures = 3
    authFailures = 0
    maxHeld = 100
    restAfter = 1
    cacheFeatures = True
    resumable = True

    def __init__(self, factory):
        HardenedXmlStream.__init__(self)
        # Every attribute a stream gets is set here: with Twisted's and the
        # C{closing} of connectionLost, 29 names at most.  Then CPython
        # (3.11) keeps one key table for all streams and each stream only
        # its values; a 30th name in the type's life gives every stream
        # from then on a dict of its own, 1.3 KB more each (measured in
        # bench/README.md, "What a held connection costs").  So what the
        # factory has (config, sm) is read through it, not copied here.
        self.factory = factory
        server = factory.config.server
        if server.logTraffic:
            self.logTraffic = True
        self.transport = None
        self.connected = 0
        self.sid = None
        self._headerSent = False
        self.secure = factory.directTLS
        self.version = (1, 0)
        self.domain = None
        self.peer = None
        self.username = None
        self.session = None
        self._held = None
        self.flow = None
        self.liveness = Liveness(factory.clock, server.idleTimeout, server.keepaliveInterval,
                                 self.onIdle, self.sendKeepalive, self.restAfter, self.hibernate)
        self._tables = dispatchTables(type(self), factory.negotiators)
        self._negotiators = [klass(self) for klass in self._tables[0]]

    @property
    def config(self):
        """The listener's configuration (the factory's, one for all its streams)."""
        return self.factory.config

    @property
    def sm(self):
        """The session manager these streams bind sessions on (the factory's)."""
        return self.factory.sm

    @property
    def maxStanzaSize(self):
        """
        The stanza size limit: C{[parser] max_stanza_size_before_auth} until
        the client has authenticated, then C{[server] max_stanza_size}.
        """
        server = self.config.server.maxStanzaSize
        if self.username is None:
            return min(server, self.config.parser.maxStanzaSizeBeforeAuth)
        return server

    @property
    def parserLimits(self):
        """The factory's parser limits before authentication, or after it."""
        if self.username is None:
            return self.factory.parserLimitsBeforeAuth
        return self.factory.parserLimits

    @property
    def negotiators(self):
        """This stream's negotiators (fresh ones once a resource is bound)."""
        negotiators = self._negotiators
        if negotiators is None:
            return [klass(self) for klass in self._tables[0]]
        return negotiators

    def negotiator(self, index):
        """The negotiator at C{index}; a fresh one once they were dropped at binding."""
        negotiators = self._negotiators
        if negotiators is None:
            return self._tables[0][index](self)
        return negotiators[index]

    # state the negotiators ask about

    @property
    def needsTLS(self):
        """Whether the policy requires TLS and the stream is not yet encrypted."""
        return self.config.c2s.requireTLS and not self.secure

    def canStartTLS(self):
        """Whether STARTTLS can be offered on this framing."""
        return self.factory.contextFactory is not None and hasattr(self.transport, "startTLS")

    def isToServer(self, stanza):
        """Whether C{stanza} is addressed to the server itself (no C{to}, or the domain)."""
        to = stanza.getAttribute("to")
        return not to or to.lower() == self.domain

    # connection events

    def connectionMade(self):
        setNoDelay(self.transport)
        shareWriteState(self.transport)
        if self.factory.directTLS and not ISSLTransport.providedBy(self.transport):
            # XEP-0368: TLS from the first byte (an ssl: endpoint did it already)
            self.transport = self.factory.startTLS(self.transport, self)
        HardenedXmlStream.connectionMade(self)
        self.flow = FlowControl.attach(self, self.transport)
        self.factory.streams.add(self)
        self.liveness.start()
        refused = self.factory.limiter.admit(self._peerHost(), self)
        if refused is not None:
            self.log.info("refused a client connection from {peer}: {condition}",
                          peer=self._peer(), condition=refused)
            self.closeWithError(refused, "too many connections")
            return
        self.liveness.setDeadline(self.config.connections.authTimeout, self.onAuthTimeout)

    def _peerHost(self):
        peer = self._peer()
        return getattr(peer, "host", None) or str(peer)

    def dataReceived(self, data):
        self.liveness.noteInput()
        flow = self.flow
        if flow is not None:
            flow.noteInput(len(data))
        HardenedXmlStream.dataReceived(self, data)

    def noteInput(self):
        """Framings that do not call L{dataReceived} report input here."""
        self.liveness.noteInput()

    def connectionLost(self, reason):
        self.liveness.stop()
        self.factory.streams.discard(self)
        self.factory.limiter.release(self)
        session, self.session = self.session, None
        closed = self.closing  # by either end: the session ends (XEP-0198 section 7)
        HardenedXmlStream.connectionLost(self, reason)
        if session is not None and (closed or not self.sm.detachSession(session)):
            self.sm.unbindSession(session)

    # the stream header (RFC 6120 section 4.7)

    def onDocumentStart(self, rootElement):
        condition = self.checkHeader(rootElement)
        self.sid = secrets.token_hex(8)
        self.sendHeader()
        if condition is not None:
            self.closeWithError(condition)
        elif self.version >= (1, 0):
            self.sendFeatures()

    def checkHeader(self, root):
        """
        Validate the client's header and adopt its version and domain;
        return a stream error condition, or None when it is acceptable.
        """
        version = parseVersion(root.getAttribute("version"))
        self.version = min(version, (1, 0))
        if (root.uri, root.name) != (NS_STREAMS, "stream") or root.defaultUri != NS_CLIENT:
            return "invalid-namespace"
        if version[0] > 1:
            return "unsupported-version"
        self.peer = parseJID(root.getAttribute("from") or "")
        return self.checkDomain(root.getAttribute("to"))

    def checkDomain(self, to):
        """Adopt the addressed domain; it must be local and never change on restart."""
        domains = self.config.server.domains
        domain = to.lower() if to else domains[0]  # COMPAT: pre-1.0 clients may omit 'to'
        if domain not in domains or (self.domain is not None and domain != self.domain):
            return "host-unknown"
        self.domain = domain
        return None

    def sendHeader(self):
        if self.sid is None:
            self.sid = secrets.token_hex(8)
        parts = ["<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
                 "xmlns:stream='http://etherx.jabber.org/streams' from='",
                 escapeToXml(self.domain or self.config.server.domains[0], 1), "'"]
        if self.peer is not None:
            parts += [" to='", escapeToXml(self.peer.full(), 1), "'"]
        parts += [" id='", self.sid, "'"]
        if self.version >= (1, 0):
            parts.append(" version='1.0'")
        parts.append(" xml:lang='en'>")
        self.send("".join(parts))
        self._headerSent = True

    def sendFeatures(self):
        """
        Advertise what each negotiator offers in the current phase (section
        4.3.2).  What is offered depends only on the phase (the domain,
        encryption, authentication, binding) and the configuration, so on
        TCP the serialised features are made once per phase and reused.
        """
        if not self.cacheFeatures:
            self.send(self.buildFeatures())
            return
        key = (self._tables[0], self.domain, self.secure, self.username is None,
               self.session is None, self.canStartTLS())
        cache = self.factory.featuresCache
        data = cache.get(key)
        if data is None:
            data = self.buildFeatures().toXml(prefixes=self.prefixes, defaultUri=self.namespace,
                                              prefixesInScope=list(self.prefixes.values()))
            cache[key] = data
        self.send(data)

    def buildFeatures(self):
        """The <stream:features/> element of the current phase."""
        features = domish.Element((NS_STREAMS, "features"))
        for negotiator in self.negotiators:
            for element in negotiator.features():
                features.addChild(element)
        return features

    def restart(self):
        """
        Expect a new stream header over the same connection, after TLS or
        SASL succeeded (RFC 6120 section 4.3.3).
        """
        self.reset()

    def startTLS(self):
        """Switch the TCP connection to TLS (the <proceed/> is already written)."""
        self.transport = self.factory.startTLS(self.transport, self)
        self.secure = True
        self.restart()

    # input

    def onElement(self, element):
        if self.closing:
            return  # the rest of a chunk read before the stream was closed
        try:
            session = self.session
            flow = self.flow
            if flow is not None and flow.holding and self._held is not None:
                self._hold(element)  # over the stanza rate: the rest of the read waits
            elif session is not None and element.uri == NS_CLIENT and element.name in STANZAS:
                if session.management is not None:
                    session.management.countHandled()  # XEP-0198 section 4
                if element.name != "iq" or not self._negotiationIQ(element):
                    self.sm.outbound(session, element)
                if flow is not None:
                    rested = flow.noteStanza()
                    if rested is not None and self._held is None:
                        self.waitFor(rested)
            elif self._held is not None:
                self._hold(element)
            else:
                self._dispatch(element)
        except Exception:
            self.log.failure("error handling a {name} from {jid}", name=element.name,
                             jid=self.session.full if self.session else self.username)
            if self.session is None:
                self.closeWithError("internal-server-error")

    def _negotiationIQ(self, iq):
        payload = iq.firstChildElement()
        if payload is None:
            return False
        entry = self._tables[2].get(payload.uri)
        if entry is None:
            return False
        position, handler = entry
        return handler(self.negotiator(position), iq, payload)

    def _dispatch(self, element):
        entry = self._tables[1].get((element.uri, element.name))
        if entry is not None:
            position, handler = entry
            handler(self if position is None else self.negotiator(position), element)
        elif element.uri == NS_CLIENT and element.name in STANZAS:
            if element.name != "iq" or not self._negotiationIQ(element):
                self.onPreAuthStanza(element)
        elif self.session is None or not self.sm.nonza(self.session, element):
            # A nonza is taken only from a bound session (CSI, XEP-0352).
            self.closeWithError("unsupported-stanza-type")

    def onPreAuthStanza(self, element):
        """
        A stanza before a resource is bound is not processed (RFC 6120
        section 7.1, stream error section 4.9.3.12).  Negotiators (in-band
        registration, XEP-0077) take the iqs they serve before this is
        called; a subclass may override it.
        """
        self.closeWithError("not-authorized")

    @handles(NS_STREAMS, "error")
    def onStreamError(self, element):
        """The client ended the stream with an error: close ours."""
        self.log.info("stream error from client {peer}", peer=self._peer())
        self.closeStream()

    def waitFor(self, d):
        """
        Hold further input until C{d} fires, so an asynchronous step (a
        credentials look-up) keeps elements in order.  Callbacks added to
        C{d} before this call run before the held elements.
        """
        if self._held is None:
            self._held = []
        d.addBoth(self._release)
        return d

    def _hold(self, element):
        # Held for the stanza rate, elements are bounded by the one read
        # that brought them: reading is paused until they are released.
        if len(self._held) >= self.maxHeld and not (self.flow is not None and self.flow.holding):
            self.closeWithError("policy-violation", "too many elements while authenticating")
        else:
            self._held.append(element)

    def _release(self, _):
        held, self._held = self._held, None
        for element in held or ():
            if self.closing:
                break
            self.onElement(element)

    # authentication and binding

    def onAuthenticated(self, username):
        """
        The client proved to be C{username} (SASL or XEP-0078): its deadline
        is met, and its stanzas may now be as large as the server allows.
        """
        self.username = username
        self.liveness.meetDeadline()
        self.applyParserLimits()
        self.log.info("{user}@{domain} authenticated from {peer}", user=username,
                      domain=self.domain, peer=self._peer())

    def noteAuthFailure(self):
        """Count a failed attempt; too many close the stream (RFC 6120 section 6.4.5)."""
        self.authFailures += 1
        if self.authFailures >= self.maxAuthFailures:
            self.closeWithError("policy-violation", "too many failed authentication attempts")

    def bindResource(self, resource):
        """
        Bind the prepared C{resource} to the authenticated user and hand
        the session to the session manager, which replaces a session of
        the same full JID (RFC 6120 section 7.7.2.2).
        """
        session = Session(self, preparedJID(self.username, self.domain, resource))
        self.session = session
        self._negotiators = None  # negotiation is over: free its per-stream state
        self.sm.bindSession(session)
        return session

    def adoptSession(self, session):
        """
        Carry the detached C{session} from now on (XEP-0198 section 5):
        the client resumed it instead of binding a resource.
        """
        self.session = session
        self._negotiators = None

    # output

    def send(self, obj):
        if self.closing:
            return
        if isinstance(obj, domish.Element) and obj.uri in SERVER_NAMESPACES:
            toClientNamespace(obj)
        flow = self.flow
        if flow is not None and flow.blocked:
            # Only while the client is not reading: measure what piles up.
            if isinstance(obj, domish.Element):
                obj = obj.toXml(prefixes=self.prefixes, defaultUri=self.namespace,
                                prefixesInScope=list(self.prefixes.values()))
            flow.noteOutput(len(obj))
        HardenedXmlStream.send(self, obj)
        self.liveness.noteOutput()

    def hibernate(self):
        """Resting: free the parser and the TLS layer's cipher state until input comes."""
        rest = getattr(self.transport, "rest", None)
        if rest is not None:
            rest()
        return HardenedXmlStream.hibernate(self)

    def sendKeepalive(self):
        """
        A whitespace keepalive (RFC 6120 section 4.6.1), once the header is
        out; the cipher state it needed is dropped again at the next rest.
        """
        if self._headerSent:
            self.send(" ")
            self.liveness.restLater()

    def onIdle(self):
        """
        No input for the idle timeout: RFC 6120 section 4.9.3.4.  A silent
        client did not close its stream, so a resumable session is detached
        first (XEP-0198 section 7) rather than ended with the stream.
        """
        session = self.session
        if session is not None and self.sm.detachSession(session):
            self.session = None
        self.closeWithError("connection-timeout")

    def onAuthTimeout(self):
        """Not authenticated within C{[connections] auth_timeout} (section 4.9.3.4)."""
        self.log.info("client {peer} did not authenticate in time", peer=self._peer())
        self.closeWithError("connection-timeout", "not authenticated in time")
