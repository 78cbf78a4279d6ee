# -*- test-case-name: tests.cluster.test_node -*-
"""
Clustering: several jabberd processes (nodes) serve the same domains,
sharing storage (PostgreSQL, C{[cluster] database}) and exchanging stanzas
and the session directory over NATS (C{[cluster] nats}).  See
docs/CLUSTER.md for the design, its limits and why NATS.

Nothing here is imported by a server without a C{[cluster]} section.
"""

__all__ = ["joinCluster"]


def joinCluster(server):
    """
    Make C{server} (a L{jabberd.tap.Server} whose session manager is
    built) a node: connect to NATS (blocking start-up work; a
    L{jabberd.cluster.link.LinkError} if it is unreachable) and add the
    node's service.
    """
    from jabberd.cluster.link import NATSLink
    from jabberd.cluster.node import ClusterNode

    config = server.config.cluster
    link = NATSLink(config.nats).connect()
    node = ClusterNode(config, server.sm, link)
    node.join()
    node.setServiceParent(server)
    server.cluster = node
    return node
