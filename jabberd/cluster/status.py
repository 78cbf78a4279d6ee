# -*- test-case-name: tests.cluster.test_status -*-
"""
C{jabberdctl cluster status}: asks every node of the configured cluster
for its state over NATS (the request goes out on the directory subject
with a reply subject; each node answers with
L{jabberd.cluster.node.ClusterNode.status}) and prints one line per node:
its sessions, the rooms it holds, the components connected to it and its
message counters (the per-node metrics).
"""

import asyncio
import json
import uuid

from jabberd.cluster.wire import Subjects, encode

__all__ = ["queryStatus", "formatStatus"]


async def _query(config, wait):
    import nats

    nc = await nats.connect(config.nats, connect_timeout=3, allow_reconnect=False)
    replies = []
    inbox = f"_INBOX.jabberdctl.{uuid.uuid4().hex}"

    async def onReply(msg):
        try:
            replies.append(json.loads(msg.data))
        except ValueError:
            pass

    await nc.subscribe(inbox, cb=onReply)
    await nc.publish(Subjects(config.name).directory,
                     encode("status", "jabberdctl", reply=inbox))
    await nc.flush()
    await asyncio.sleep(wait)
    await nc.close()
    return replies


def queryStatus(config, wait=1.5):
    """The status of every node of C{config} (a L{ClusterConfig}) that answers within C{wait} s."""
    replies = asyncio.run(_query(config, wait))
    return sorted((r for r in replies if isinstance(r, dict) and "node" in r),
                  key=lambda r: r["node"])


def formatStatus(replies):
    """The text of the status: a header, then one line per node."""
    lines = [f"{'node':<16} {'sessions':>8} {'rooms':>6} {'components':>10}  "
             f"{'sent':>8} {'received':>8} {'relayed':>7} {'retried':>7} {'reaped':>6}  alive"]
    for reply in replies:
        node = reply["node"]
        counters = reply.get("counters", {})
        components = [d for d, n in reply.get("components", {}).items() if n == node]
        lines.append(
            f"{node:<16} {reply.get('sessions', {}).get(node, 0):>8} "
            f"{reply.get('rooms', {}).get(node, 0):>6} {len(components):>10}  "
            f"{counters.get('sent', 0):>8} {counters.get('received', 0):>8} "
            f"{counters.get('relayed', 0):>7} {counters.get('retried', 0):>7} "
            f"{counters.get('reaped', 0):>6}  {','.join(reply.get('alive', []))}")
    if not replies:
        lines.append("(no node answered)")
    return "\n".join(lines)
