# -*- test-case-name: tests.sm.test_modules -*-
"""
The session manager's module list: which handlers attach, in which order.

Like jabberd 1.4's C{mod_*} list, order matters: within a hook stage
(L{jabberd.handler.Stage}) handlers run in this order; delivery of stanzas
to users' sessions comes first among the inbound hooks, iq payload
handlers follow.  Adding a protocol area means adding a module and one line
here.
"""

import jabberd
from jabberd.sm.manager import SessionManager
from jabberd.storage.cached import CachedStorage

__all__ = ["buildSessionManager", "handlerFactories"]


def handlerFactories(config):
    """The factories of the session manager's handlers, in attachment order."""
    from jabberd.sm import (accountremoval, avatar, avatarconversion, blocking, browse, carbons,
                            csi, delegation, disco, entitytime, last, mam, message, offline,
                            ping, presence, private, roster, rosterpins, streammanagement,
                            vcard, vcard4, vcardupdate, version)
    from jabberd.sm import caps, push
    from jabberd.sm import bookmarks, pep

    return [
        # Routing stage: delegated namespaces win over built-in handlers
        # (XEP-0355), and components' answers are consumed before any other hook.
        lambda: delegation.DelegationHandler.fromConfig(config),
        lambda: message.MessageHandler.fromConfig(config),
        # PEP (XEP-0163) before presence: it sees contacts' presence arrive.
        lambda: pep.PEPHandler.fromConfig(config),
        # The photo hash of XEP-0153 goes into available presence before it is broadcast.
        vcardupdate.VCardUpdateHandler,
        lambda: presence.PresenceHandler.fromConfig(config),
        roster.RosterHandler,
        disco.DiscoHandler,
        browse.BrowseHandler,
        lambda: version.VersionHandler("jabberd", jabberd.__version__),
        entitytime.TimeHandler,
        last.LastHandler,
        ping.PingHandler,
        lambda: vcard.VCardHandler.fromConfig(config),
        # PEP payload rules and conversions: avatars (XEP-0084, XEP-0398), vCard4 (XEP-0292).
        lambda: avatar.AvatarHandler.fromConfig(config),
        avatarconversion.AvatarConversion,
        vcard4.VCard4Handler,
        private.PrivateHandler,
        # XEP-0402 bookmarks, kept in step with XEP-0048 in private XML and PEP.
        lambda: bookmarks.BookmarksHandler.fromConfig(config),
        accountremoval.AccountRemoval,  # XEP-0077 removal ends the sessions
        # Policy stage: block lists (XEP-0191).
        lambda: blocking.BlockingHandler.fromConfig(config),
        # Archive stage: users' message archives and stanza-ids (XEP-0313, XEP-0359).
        lambda: mam.ArchiveHandler.fromConfig(config),
        # Copies stage: carbons (XEP-0280).
        carbons.CarbonsHandler,
        # Observe stage: entity capabilities (XEP-0115) read from presence before delivery.
        lambda: caps.CapsHandler.fromConfig(config),
        # Delivery stage, after the copies: the sender's archive id stays with the sender.
        mam.SentIdFilter,
        # Delivery stage: push notifications (XEP-0357) for users who are away,
        # before offline storage and the queues take the message.
        lambda: push.PushHandler.fromConfig(config),
        # Queue stage: client state indication (XEP-0352).
        lambda: csi.CSIHandler.fromConfig(config),
        # Queue stage: stream management (XEP-0198) counts what is written after CSI.
        lambda: streammanagement.StreamManagementHandler.fromConfig(config),
        # Storage stage: takes what nobody could deliver (XEP-0160).
        lambda: offline.OfflineHandler.fromConfig(config),
        # Cache stage: unpins a roster after presence broadcast unavailable.
        rosterpins.RosterPins,
    ]


def buildSessionManager(config, storage, router):
    """Make the L{SessionManager} for C{config} with all its handlers."""
    roster = None
    if config.cluster is not None:
        from jabberd.cluster.rosters import SharedRoster

        roster = SharedRoster(storage.roster)  # other nodes change it too: no copy here
    sm = SessionManager(config.server.domains, CachedStorage(storage, roster), router)
    sm.config = config
    for factory in handlerFactories(config):
        sm.addHandler(factory())
    sm.checkRequirements()
    return sm
