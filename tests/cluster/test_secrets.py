"""Tests for L{jabberd.cluster.secrets}: keys every node derives alike."""

from jabberd.cluster.secrets import derivedKey
from jabberd.config import parse
from jabberd.sm.mam import ArchiveHandler

CLUSTER = """
[server]
datadir = {datadir}
[cluster]
node = {node}
secret = the same on every node
"""


def test_sameSecretSameKeys():
    """Two nodes with one secret derive the same key for a purpose, and different keys per purpose."""
    assert derivedKey("s" * 16, "archive-ids") == derivedKey("s" * 16, "archive-ids")
    assert derivedKey("s" * 16, "archive-ids") != derivedKey("s" * 16, "server-secret")
    assert len(derivedKey("s" * 16, "x")) == 32


def test_archiveIdsProvableOnEveryNode(tmp_path):
    """An archive id made on one node is proven on another (offline delivery is not archived twice)."""
    handlers = [ArchiveHandler.fromConfig(parse(CLUSTER.format(datadir=tmp_path / node, node=node)))
                for node in ("n1", "n2")]
    made = handlers[0].ids.make("bob@localhost", "alice@localhost", "m1")
    assert handlers[1].ids.proves(made, "bob@localhost", "alice@localhost", "m1")
