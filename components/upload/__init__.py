# -*- test-case-name: tests.components.upload.test_upload_component -*-
"""
HTTP File Upload (XEP-0363) component: the server keeps the files, so a
sender behind NAT can share one with anybody, offline or in a room.

Configure it with a section such as::

    [component:upload.localhost]
    plugin = upload
    max_file_size = 10M       ; bytes, K/M/G suffixes
    quota_per_user = 1G       ; 0: no quota
    quota_total = 10G         ; all accounts together; 0: no quota
    expire_after = 604800     ; seconds a file is kept, 0: forever
    slot_lifetime = 300       ; seconds a slot waits for its PUT
    public_url =              ; URL prefix of files, if not <[http] site>/upload
    http_path = upload        ; where on the HTTP site the files live
    http_listen =             ; own HTTP listener when run out of process

Besides its handlers, the host made here offers what the process running
it must start (see L{makeHost}): an HTTP resource and a cleanup service.
"""

from jabberd.logs import Logger

from jabberd.host import Host
from jabberd.periodic import PeriodicService
from jabberd.component.info import ServiceInfoHandler
from components.upload.handler import UploadHandler
from components.upload.options import UploadOptions
from components.upload.resource import UploadResource
from components.upload.slots import SlotManager
from components.upload.store import FileStore

__all__ = ["makeHost"]

log = Logger()


def makeHost(config, componentConfig, storage, clock=None):
    """
    Make the upload component's L{Host} for C{componentConfig}.

    Besides its handlers the host carries:

     - C{httpResources}: C{{path: resource}} to attach to an HTTP site
       (L{jabberd.web.service.HTTPService.attach}, or L{jabberd.web.service.mountHost});
     - C{services}: Twisted services to start and stop with the host (the
       sweep of expired files and slots).

    C{storage} is unused: files and their metadata live under the data
    directory, where the HTTP side serves them from.
    """
    options = UploadOptions.fromConfig(config, componentConfig)
    store = FileStore(options.directory, options.expireAfter, clock)
    store.load()
    slots = SlotManager(store, options.maxFileSize, options.quotaPerUser,
                        options.slotLifetime, clock, options.quotaTotal)
    files = UploadResource(slots, store, options.publicURL)
    host = Host([componentConfig.domain])
    host.addHandler(ServiceInfoHandler())
    host.addHandler(UploadHandler(slots, files, config.server.domains))
    host.httpResources = {options.httpPath: files}
    host.services = [_sweeper(componentConfig.domain, slots, store,
                              options.cleanupInterval, clock)]
    return host


def _sweeper(domain, slots, store, interval, clock):
    def sweep():
        slots.expireSlots()
        # A failure would stop the sweeper's calls: log it and sweep again later.
        return store.expire().addErrback(
            lambda f: log.failure("sweeping expired uploads failed", f))

    sweeper = PeriodicService(interval, sweep)
    sweeper.setName("upload-expiry:" + domain)
    if clock is not None:
        sweeper.clock = clock
    return sweeper
