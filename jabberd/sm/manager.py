# -*- test-case-name: tests.sm.test_manager -*-
"""
The session manager host: the session table and the two directions of
stanza processing of RFC 6121.

 - outbound: a stanza from a local client, C{from} stamped by the server
   (RFC 6120 section 8.1.2.1), offered to the handlers' C{onOutbound} hooks
   and otherwise routed on;
 - inbound: a stanza routed to a local domain, offered to the handlers'
   C{onInbound} hooks; an iq to the server or to a bare account JID is
   answered on the account's behalf by the iq handlers (RFC 6120 section
   10.3.3, RFC 6121 section 8.5).

The delivery rules themselves (messages, presence, iqs to full JIDs) live in
handler modules, as every other protocol area does.
"""

import secrets

from jabberd.logs import Logger

from jabberd.host import Host

__all__ = ["SessionManager", "PreAuth", "DetachedStream"]


class PreAuth:
    """An unauthenticated stream with a temporary address, and its client's IP."""

    __slots__ = ("stream", "clientIP")

    def __init__(self, stream, clientIP=None):
        self.stream = stream
        self.clientIP = clientIP


class DetachedStream:
    """
    The stream of a detached session (XEP-0198 section 5): it writes
    nothing (stream management keeps what is sent until a new connection
    resumes the session), and closing it ends the session for good.
    """

    __slots__ = ("sm", "session")

    closing = True

    def __init__(self, sm, session):
        self.sm = sm
        self.session = session

    def send(self, obj):
        """Nothing is written: the stanza waits in the session's unacknowledged queue."""

    def closeWithError(self, condition, text=None):
        """A detached session that is closed (replaced, account removed) ends now."""
        self.sm.unbindSession(self.session)


class SessionManager(Host):
    """
    @ivar storage: the L{jabberd.storage} object.
    @ivar sessions: bare JID string -> {resource: L{Session}}.
    @ivar router: the router this manager routes through.
    @ivar preAuth: temporary address -> L{PreAuth} of the unauthenticated
        streams whose iqs (in-band registration, XEP-0077) the manager
        processes; see L{bindPreAuth}.
    """

    log = Logger()

    def __init__(self, domains, storage, router=None):
        Host.__init__(self, domains)
        self.storage = storage
        self.router = router
        self.sessions = {}
        self.preAuth = {}

    def isLocal(self, domain):
        """Whether C{domain} is one of the local domains."""
        return domain in self.domains

    # the session table

    def bindSession(self, session):
        """
        Add C{session}; a session already bound to the same full JID is
        replaced and gets a C{conflict} stream error (RFC 6120 section
        7.7.2.2).
        """
        resources = self.sessions.setdefault(session.bare, {})
        old = resources.get(session.resource)
        if old is not None:
            self.unbindSession(old)
            old.close("conflict", "Replaced by new connection")
            # unbindSession dropped the dict if it emptied: fetch it again.
            resources = self.sessions.setdefault(session.bare, {})
        resources[session.resource] = session
        session.deliverHooks = self.hooks("onDeliver")
        self.notify("sessionBound", session)

    def addRemote(self, session):
        """
        Add a session bound on another node of a cluster
        (L{jabberd.cluster.remote.RemoteSession}): delivery and presence
        count it, and no hook runs, since it is not bound here.
        """
        resources = self.sessions.setdefault(session.bare, {})
        resources[session.resource] = session

    def unbindSession(self, session):
        """Remove C{session} (clean close or abrupt disconnect) and tell the handlers."""
        resources = self.sessions.get(session.bare)
        if not resources or resources.get(session.resource) is not session:
            return
        del resources[session.resource]
        if not resources:
            del self.sessions[session.bare]
        if session.remote:
            return  # its own node ends it
        self.notify("sessionEnded", session)
        session.active = False

    def detachSession(self, session):
        """
        C{session}'s connection is gone without the stream being closed:
        keep it bound and available, writing to a L{DetachedStream}, when
        its stream management allows resumption (XEP-0198 section 5), and
        tell the handlers.  Whether it was detached; if not, the caller
        unbinds it.
        """
        management = session.management
        if management is None or not management.resumable or session.detached:
            return False
        resources = self.sessions.get(session.bare)
        if not resources or resources.get(session.resource) is not session:
            return False
        session.detached = True
        session.stream = DetachedStream(self, session)
        self.notify("sessionDetached", session)
        return True

    def resumeSession(self, session, stream):
        """C{stream} took over the detached C{session} (XEP-0198 section 5): tell the handlers."""
        session.stream = stream
        session.detached = False
        self.notify("sessionResumed", session)

    def sessionsOf(self, bare):
        """All bound sessions of the account C{bare}, as a list."""
        return list(self.sessions.get(bare, {}).values())

    def session(self, full):
        """The session bound to full JID string C{full}, or None."""
        bare, _, resource = full.partition("/")
        return self.sessions.get(bare, {}).get(resource)

    def userDeleted(self, username):
        """Tell every handler that C{username}'s account is gone."""
        self.notify("userDeleted", username)

    def sessionAvailable(self, session):
        """C{session} sent initial presence, now broadcast: tell the handlers."""
        self.notify("sessionAvailable", session)

    def undeliverable(self, stanza):
        """
        Offer a message no session could take to the C{onUndeliverable}
        hooks (offline storage): a Deferred firing True when one took it.
        """
        return self.offer("onUndeliverable", stanza)

    def nonza(self, session, element):
        """
        Offer a first-level element that is not a stanza, from C{session}'s
        stream, to the C{onNonza} hooks: whether one handled it.
        """
        return self.first("onNonza", session, element)

    # unauthenticated streams (XEP-0077 registration before login)

    def bindPreAuth(self, stream, domain, clientIP=None):
        """
        Give the unauthenticated C{stream} a temporary address
        C{DOMAIN/preauth-RANDOM}: its pre-auth iqs are processed as sent
        from there, and iq answers to it are written back to C{stream}
        (by L{jabberd.sm.delegation}).  Returns the address.
        """
        address = f"{domain}/preauth-{secrets.token_hex(10)}"
        self.preAuth[address] = PreAuth(stream, clientIP)
        return address

    def unbindPreAuth(self, address):
        """Forget a temporary address (its stream ended)."""
        self.preAuth.pop(address, None)

    # stanza flow

    def outbound(self, session, stanza):
        """
        A stanza from client C{session}: stamp C{from}, let the handlers see
        it, and route it on if none consumed it.
        """
        stanza["from"] = session.full
        for hook in self._hooks["onOutbound"]:  # inline: every client stanza passes here
            if hook(session, stanza):
                return
        if not stanza.getAttribute("to"):
            # RFC 6120 section 10.3.3: no 'to' means the account itself.
            self.receive(stanza)
            return
        self.send(stanza)
