# -*- test-case-name: tests.components.offline.test_offline_component -*-
"""
The offline message store (XEP-0160, with XEP-0013 flexible retrieval) as
a component: messages for users who are offline are kept here and
delivered from their original senders when the user comes back.

It acts for the server, so its section must trust it::

    [component:offline.localhost]
    plugin = offline
    trusted = yes              ; sends stored messages from their senders
    delegate = http://jabber.org/protocol/offline   ; XEP-0013 (XEP-0355)
    quota = 1000               ; messages kept per user; 0 = no limit
    quota_bytes = 10M          ; bytes of messages kept per user; 0 = no limit

The session manager finds it by its plugin (or by C{[server]
offline_store = DOMAIN}).  Out of process, add C{secret} and C{external =
yes} and run C{twistd -n jabberd-component -c etc/jabberd.ini
offline.localhost}; it opens the server's database itself (C{usesStorage}).
"""

from jabberd.component.info import ServiceInfoHandler
from jabberd.config import Section
from jabberd.component.delegation import DelegationReceiver
from jabberd.host import Host
from components.offline.flexible import FlexibleHandler
from components.offline.handler import StoreHandler
from components.offline.spool import DEFAULT_QUOTA, DEFAULT_QUOTA_BYTES, OfflineSpool
from components.upload.options import parseSize

__all__ = ["makeHost", "usesStorage"]

#: Out of process, C{twistd jabberd-component} opens the server's storage.
usesStorage = True


def makeHost(config, componentConfig, storage):
    """The plugin entry point: the store's host and its handlers."""
    spool = OfflineSpool(storage, _quota(componentConfig), _quotaBytes(componentConfig),
                         indexHolders=config.cluster is None)
    domains = config.server.domains
    host = Host([componentConfig.domain])
    host.addHandler(ServiceInfoHandler(componentConfig.options.get("name", "Offline messages")))
    host.addHandler(StoreHandler(spool, domains))
    host.addHandler(DelegationReceiver(domains))
    host.addHandler(FlexibleHandler(spool, domains))
    return host


def _quota(componentConfig):
    return Section.ofComponent(componentConfig).int("quota", DEFAULT_QUOTA)


def _quotaBytes(componentConfig):
    return Section.ofComponent(componentConfig).int("quota_bytes", DEFAULT_QUOTA_BYTES,
                                                    parseSize, "a size or number")
