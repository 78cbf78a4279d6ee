# -*- test-case-name: tests.components.conference.test_muc_service -*-
"""
The conference component: Multi-User Chat (XEP-0045) with the protocols
of the jabberd 1.4 conference service it replaces, groupchat 1.0 and
C{jabber:iq:conference} (section 7.2, "Groupchat 1.0 Protocol"), and Jabber
Browsing (XEP-0011).

The plugin entry point is L{makeHost}: it returns a L{jabberd.host.Host}
for the component's domain with the conference handlers attached; the
caller attaches it to the router in process or over XEP-0114.

Modules, one concern each: L{room} (rules, no XML), L{roles}
(permission tables), L{roomconfig}, L{history}, L{store} (persistence),
L{archive} (rooms' message archives, XEP-0313), L{occupantid} (XEP-0421),
L{service} (the rooms of a domain), and the protocol adapters
L{presence}, L{message}, L{invitation}, L{voicerequest}, L{occupantiq}
(with XEP-0410 self-ping), L{admin}, L{owner} (with L{configform}),
L{mam} (archive queries), L{disco}, L{browse}, L{legacy}.
"""

import jabberd  # noqa: F401  (installs the wokkel compatibility shim first)
from twisted.application.service import Service as TwistedService

from jabberd.host import Host

__all__ = ["makeHost", "handlerFactories"]


def handlerFactories():
    """
    The component's handlers (factories taking the L{MUCService}), in
    order: the start-up gate, the presence and message paths, iqs to
    occupants, then the iq payload handlers.
    """
    from jabberd.component.info import ServiceInfoHandler
    from components.conference import (admin, browse, disco, legacy, mam, message,
                                       occupantiq, owner, presence, service)

    def serviceInfo(muc):
        # Software Version (XEP-0092); DiscoHandler's disco routes override
        # this handler's, since they also answer for rooms.
        return ServiceInfoHandler(muc.options.name, category=("conference", "text"))

    return [
        service.StartupGate,
        presence.PresenceHandler,
        message.MessageHandler,
        occupantiq.OccupantIQHandler,
        disco.DiscoHandler,
        serviceInfo,
        browse.BrowseHandler,
        legacy.ConferenceHandler,
        admin.AdminHandler,
        owner.OwnerHandler,
        mam.MAMHandler,
    ]


def makeHost(config, componentConfig, storage=None, store=None):
    """
    Build the conference host for C{componentConfig.domain}.

    @param config: the server's L{jabberd.config.Config}; its database URL
        (C{config.server.database}) keeps the persistent rooms unless the
        component section names another (C{database}).
    @param componentConfig: the L{jabberd.config.ComponentConfig}; its
        C{options} are the section's other keys (C{history_default},
        C{max_history}, C{max_users}, C{name}, C{admins},
        C{room_creation}, C{database}, C{archive}, C{archive_max_page},
        C{archive_max_per_room}, C{archive_sweep_interval}).
    @param storage: the core L{jabberd.storage.interfaces.IStorage}; when
        it is SQL and the rooms' URL is its own, the rooms share its
        L{jabberd.storage.sql.database.Database}.  The rooms' message
        archives are in its archive store (in memory without one).
    @param store: a room store to use instead of opening one (tests).
    @return: the L{Host}, with the L{MUCService} as its C{muc} attribute.
    """
    from components.conference.archive import RoomArchive
    from components.conference.service import MUCService, parseOptions
    from components.conference.store import openRoomStore

    domain = componentConfig.domain
    options = parseOptions(domain, componentConfig.options)
    if store is None:
        store = openRoomStore(options.database or config.server.database,
                              database=getattr(storage, "database", None))
    archive = None
    if storage is not None:
        archive = RoomArchive.fromOptions(storage.archive, options)
    host = Host([domain])
    service = MUCService(host, store, options, archive)
    host.muc = service
    for factory in handlerFactories():
        host.addHandler(factory(service))
    service.start()
    host.services = [ShutdownService(service)]
    return host


class ShutdownService(TwistedService):
    """
    Runs the MUC service's periodic work with the server (or the
    component process): the room archives' retention sweep starts with it;
    on stopping, occupants get status 332 while the route still exists
    (XEP-0045 section 7.14), then the archives and the room store finish
    their writes.
    """

    def __init__(self, muc):
        self.muc = muc

    def startService(self):
        TwistedService.startService(self)
        self.muc.archive.start()

    def stopService(self):
        TwistedService.stopService(self)
        return self.muc.shutdown()
