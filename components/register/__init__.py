# -*- test-case-name: tests.components.register.test_register_handler -*-
"""
In-band registration (XEP-0077) as a component: it answers
C{jabber:iq:register} for the server's own accounts, which the session
manager delegates to it (XEP-0355 spirit, L{jabberd.sm.delegation}); the
c2s passes registration requests from not yet authenticated streams
(L{jabberd.c2s.register}).  It needs the server's account storage.

In process::

    [component:register.localhost]
    plugin = register
    trusted = yes
    delegate = jabber:iq:register
    open = yes                  ; default no: nobody may create accounts
    max_per_ip = 5              ; accounts per client IP per window (0: no limit)
    window = 600                ; seconds
    exempt = 127.0.0.0/8 ::1    ; networks without a limit
    ipv6_prefix = 64            ; an IPv6 client counts per /64 (ipv4_prefix: 32)
    instructions = ...          ; the text clients show
    name = In-band registration ; disco identity name

Out of process, add C{secret = ...} and C{external = yes} and run
C{twistd -n jabberd-component -c etc/jabberd.ini register.localhost}; it
opens the database of C{[server] database} itself (C{usesStorage}).
"""

from jabberd.component.info import ServiceInfoHandler
from jabberd.component.delegation import DelegationReceiver
from jabberd.auth.hashing import PasswordHashing
from jabberd.host import Host
from components.register.handler import RegisterHandler
from components.register.options import RegisterOptions
from components.register.ratelimit import RateLimiter

__all__ = ["makeHost", "usesStorage"]

usesStorage = True
"""Run out of process, the component opens the server's storage itself."""


def _hashing(config, clock):
    """PBKDF2 threads for the server's reactor; inline under a test's clock."""
    if clock is not None:
        return None
    from twisted.internet import reactor

    return PasswordHashing(reactor, 1, config.c2s.authMaxPending)


def makeHost(config, componentConfig, storage, clock=None):
    """The plugin entry point: the registration component's L{Host}."""
    options = RegisterOptions.fromConfig(componentConfig)
    limiter = RateLimiter(options.maxPerIP, options.window, options.exempt, clock,
                          options.ipv4Prefix, options.ipv6Prefix)
    host = Host([componentConfig.domain])
    host.addHandler(ServiceInfoHandler(options.name, ("component", "generic")))
    host.addHandler(DelegationReceiver(config.server.domains))
    host.addHandler(RegisterHandler(storage, options, limiter, config.server.domains,
                                    config.c2s.scramIterations, config.c2s.storePlaintext,
                                    _hashing(config, clock)))
    return host
