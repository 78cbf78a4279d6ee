# -*- test-case-name: tests.sm.test_modules -*-
"""
The session manager's module list: which handlers attach, in which order.

Like jabberd 1.4's C{mod_*} list, order matters: delivery of stanzas to
users' sessions comes first among the inbound hooks; iq payload handlers
follow.  Adding a protocol area means adding a module and one line here.
"""

import jabberd
from jabberd.sm.manager import SessionManager
from jabberd.sm.rosterpins import RosterPins
from jabberd.storage.cached import CachedStorage

__all__ = ["buildSessionManager", "moduleFactories"]


def moduleFactories(config):
    """Return the (name, factory) list of the session manager's handlers."""
    from jabberd.sm import (browse, delegation, disco, entitytime, last, message, offline,
                            ping, presence, private, register, roster, vcard, version)

    return [
        # First: delegated namespaces win over built-in handlers (XEP-0355),
        # and components' answers are consumed before any other hook.
        ("delegation", lambda: delegation.DelegationHandler.fromConfig(config)),
        ("message", message.MessageHandler),
        ("presence", presence.PresenceHandler),
        ("roster", roster.RosterHandler),
        ("disco", disco.DiscoHandler),
        ("browse", browse.BrowseHandler),
        ("version", lambda: version.VersionHandler("jabberd", jabberd.__version__)),
        ("time", entitytime.TimeHandler),
        ("last", last.LastHandler),
        ("ping", ping.PingHandler),
        ("vcard", vcard.VCardHandler),
        ("private", private.PrivateHandler),
        ("register", register.AccountRemoval),  # XEP-0077 removal ends the sessions
        # After message and presence: it plugs into both (XEP-0160).
        ("offline", lambda: offline.OfflineHandler(offline.offlineComponent(config))),
    ]


def buildSessionManager(config, storage, router):
    """Make the L{SessionManager} for C{config} with all its handlers."""
    sm = SessionManager(config.server.domains, CachedStorage(storage), router)
    sm.config = config
    for _name, factory in moduleFactories(config):
        sm.addHandler(factory())
    sm.addHandler(RosterPins())
    return sm
