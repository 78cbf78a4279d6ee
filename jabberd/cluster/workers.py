# -*- test-case-name: tests.cluster.test_workers -*-
"""
Every core of one host: C{[cluster] workers = N} makes C{twistd jabberd}
the first of N processes, each a node of the cluster (C{NODE},
C{NODE-w1}, ... C{NODE-w(N-1)}), all listening on the same ports with
C{SO_REUSEPORT} (L{jabberd.listening.listenReusable}), so the kernel
spreads connections over them and the cluster routes between them.

The first process binds first (port 0 becomes a real port), then starts
the others with the bound ports, its own configuration file and a data
directory each (C{DATADIR/worker-I}); it restarts one that exits, and
stops them when it stops.  An C{ssl:} endpoint (C{[http] listen_tls})
cannot be shared and stays with the first process.
"""

import os
import signal
import sys

from twisted.application import service
from twisted.internet import defer, protocol, reactor as _reactor

from jabberd.listening import withPort
from jabberd.logs import Logger

__all__ = ["WorkerPool", "workerOverrides", "LISTENERS"]

#: listener name -> the (section, key) of its endpoint.
LISTENERS = {"c2s": ("c2s", "listen"), "c2s-tls": ("c2s", "listen_tls"),
             "components": ("components", "listen"), "http": ("http", "listen"),
             "s2s": ("s2s", "listen")}


def workerOverrides(config, index, ports):
    """
    The configuration changes of worker C{index}: its node name, data
    directory, the first process's bound C{ports} (listener name -> port)
    on the same endpoints, and no workers of its own.
    """
    overrides = {("cluster", "node"): f"{config.cluster.node}-w{index}",
                 ("cluster", "workers"): "1", ("cluster", "reuse_port"): "yes",
                 ("server", "datadir"): os.path.join(config.server.datadir, f"worker-{index}"),
                 ("http", "listen_tls"): ""}
    descriptions = {"c2s": config.c2s.listen, "c2s-tls": config.c2s.listenTLS,
                    "components": config.componentListen, "http": config.http.listen,
                    "s2s": config.s2s.listen}
    for name, port in ports.items():
        description = descriptions.get(name)
        if description and description.startswith("tcp:") and name in LISTENERS:
            overrides[LISTENERS[name]] = withPort(description, port)
    return overrides


class _Worker(protocol.ProcessProtocol):
    def __init__(self, pool, index):
        self.pool = pool
        self.index = index
        self.ended = defer.Deferred()

    def processEnded(self, reason):
        self.ended.callback(None)
        self.pool.workerEnded(self)


class WorkerPool(service.Service):
    """
    @ivar server: the first process's L{jabberd.tap.Server} (its ports).
    @ivar count: how many more processes to run.
    @ivar restartDelay: seconds before a worker that exited is started again.
    """

    log = Logger()
    name = "workers"
    restartDelay = 1.0

    def __init__(self, server, count, reactor=_reactor):
        self.server = server
        self.count = count
        self.reactor = reactor
        self.workers = {}

    def startService(self):
        service.Service.startService(self)
        for index in range(1, self.count + 1):
            self.spawn(index)

    def command(self, index):
        """The command line of worker C{index}."""
        args = [sys.executable, "-c", "from twisted.scripts.twistd import run; run()",
                "-n", "--pidfile=", "-l",
                os.path.join(self.server.config.server.datadir, f"worker-{index}.log"),
                "jabberd", "-c", self.server.config.path]
        for (section, key), value in workerOverrides(self.server.config, index,
                                                     self.server.ports).items():
            args += ["--set", f"{section}.{key}={value}"]
        return args

    def spawn(self, index):
        worker = _Worker(self, index)
        args = self.command(index)
        self.workers[index] = worker
        self.reactor.spawnProcess(worker, args[0], args, env=os.environ.copy(),
                                  childFDs={0: "w", 1: 1, 2: 2})
        self.log.info("started worker {index}", index=index)

    def workerEnded(self, worker):
        if self.workers.get(worker.index) is not worker:
            return
        del self.workers[worker.index]
        if self.running:
            self.log.warn("worker {index} exited; starting it again", index=worker.index)
            self.reactor.callLater(self.restartDelay, self._respawn, worker.index)

    def _respawn(self, index):
        if self.running and index not in self.workers:
            self.spawn(index)

    def stopService(self):
        service.Service.stopService(self)
        ended = []
        for worker in list(self.workers.values()):
            ended.append(worker.ended)
            try:
                worker.transport.signalProcess(signal.SIGTERM)
            except Exception:
                pass
        return defer.DeferredList(ended)
