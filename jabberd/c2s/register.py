# -*- test-case-name: tests.c2s.test_register -*-
"""
In-band registration before authentication (XEP-0077 sections 3.1 and 8):
the C{<register xmlns='http://jabber.org/features/iq-register'/>} stream
feature, and the path of C{jabber:iq:register} iqs from an unauthenticated
stream to whoever answers them.

The c2s does not answer registration itself.  The session manager delegates
C{jabber:iq:register} to a trusted component (XEP-0355, see
L{jabberd.sm.delegation}; C{components.register} by default); this
negotiator gives the unauthenticated stream a temporary address
(L{jabberd.sm.manager.SessionManager.bindPreAuth}: C{DOMAIN/preauth-...},
with the client's IP address for the component's rate limit), stamps it as
the iq's C{from} and hands the iq to the session manager, which writes the
answer back to this stream.

 - The feature is advertised before authentication when a trusted
   component is configured with C{delegate = jabber:iq:register} and
   C{open = yes} in its section, and, with C{[c2s] require_tls}, only once
   the stream is encrypted.
 - Registration iqs are passed whenever such a component is configured
   (so a closed service answers C{not-allowed} itself); on a stream that
   still needs TLS they get C{policy-violation}.
 - Every other stanza before authentication still ends the stream with
   C{not-authorized} (RFC 6120 section 7.1); after authentication
   C{jabber:iq:register} (password change, removal) is an ordinary iq to
   the session manager.

The rate limit of account creation per IP address is the component's
(C{max_per_ip}, C{window}, C{exempt}), so it holds in and out of process.
"""

from twisted.words.protocols.jabber.xmlstream import STREAM_END_EVENT
from twisted.words.xish import domish

from jabberd.c2s.negotiation import Negotiator, handlesIQ
from jabberd.config import Section
from jabberd.ns import NS_REGISTER, NS_REGISTER_FEATURE

__all__ = ["RegisterNegotiator", "registrationComponent", "registrationOpen", "isOpen"]


def registrationComponent(config):
    """The trusted component answering C{jabber:iq:register}, or None."""
    for component in config.components.values():
        if component.trusted and NS_REGISTER in component.delegate:
            return component
    return None


def isOpen(componentConfig):
    """
    Whether the registration component's section says C{open = yes} (closed
    by default).  The one reading of the key, for c2s and the component.

    @raise ConfigError: for a value that is not yes or no, naming the
        section and key.
    """
    return Section.ofComponent(componentConfig).bool("open", False)


def registrationOpen(config):
    """Whether new accounts may be registered in band (the component says C{open = yes})."""
    component = registrationComponent(config)
    return component is not None and isOpen(component)


def clientIP(stream):
    """The IP address of the stream's peer, when its transport knows one."""
    transport = stream.transport
    peer = transport.getPeer() if transport is not None else None
    return getattr(peer, "host", None)


class RegisterNegotiator(Negotiator):
    """
    @ivar available: whether some component answers registration.
    @ivar address: this stream's temporary address, once it has one.
    """

    __slots__ = ("available", "open", "address")

    def __init__(self, stream):
        Negotiator.__init__(self, stream)
        self.available = registrationComponent(stream.config) is not None
        self.open = self.available and registrationOpen(stream.config)
        self.address = None

    def features(self):
        stream = self.stream
        if not self.open or stream.username is not None or stream.needsTLS:
            return ()
        return (domish.Element((NS_REGISTER_FEATURE, "register")),)

    @handlesIQ(NS_REGISTER)
    def onRegisterIQ(self, iq, payload):
        """
        A registration iq before authentication: to the session manager,
        from a temporary address.
        """
        stream = self.stream
        if stream.username is not None or not self.available:
            return False  # bound: the session manager's; between auth and bind: refused
        if payload.name != "query" or iq.getAttribute("type") not in ("get", "set") \
                or not stream.isToServer(iq):
            return False
        if stream.needsTLS:
            self.sendError(iq, "policy-violation", "encryption required")
            return True
        iq["from"] = self.temporaryAddress()
        stream.sm.receive(iq)
        return True

    def temporaryAddress(self):
        """This stream's pre-auth address, bound on first use and freed with the stream."""
        if self.address is None:
            sm = self.stream.sm
            self.address = address = sm.bindPreAuth(self.stream, self.stream.domain,
                                                    clientIP(self.stream))
            self.stream.addOnetimeObserver(STREAM_END_EVENT,
                                           lambda _reason: sm.unbindPreAuth(address))
        return self.address
