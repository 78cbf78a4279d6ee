# -*- test-case-name: tests.test_component -*-
"""
Components (XEP-0114, Jabber Component Protocol): both ends of the
C{jabber:component:accept} stream, and components run in process.

 - L{accept}: the server's listener (L{ComponentServerFactory});
 - L{connect}: a component host connecting to a router
   (L{ExternalComponentService});
 - L{internal}: plugins (C{components.*}) and in-process components
   (L{startInternalComponents});
 - L{info}: disco and version answers every component host can attach;
 - L{stream}: the stream both ends use.
"""

from jabberd.component.accept import ComponentServerFactory, acceptsConnection
from jabberd.component.internal import (loadPlugin, makeComponentHost, runsInProcess,
                                        startInternalComponents)

__all__ = ["ComponentServerFactory", "ExternalComponentService", "startInternalComponents",
           "loadPlugin", "makeComponentHost", "runsInProcess", "acceptsConnection"]


def __getattr__(name):
    """
    L{ExternalComponentService} on first use (PEP 562): its module imports
    Twisted's C{ClientService} and automat with it, which a server whose
    components all run in process never needs.
    """
    if name == "ExternalComponentService":
        from jabberd.component.connect import ExternalComponentService

        return ExternalComponentService
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
