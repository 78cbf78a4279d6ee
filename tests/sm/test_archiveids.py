"""
Tests for L{jabberd.sm.archiveids}: archive ids of received messages that
prove they were made by this server for one message, the key kept in the
data directory, and how a message delivered by the offline store is known.
"""

import os
import re
import stat

from jabberd.ns import NS_SID
from jabberd.sm.archiveids import KEY_FILE, ArchiveIds, redeliveredId
from tests.sm.helpers import parse

OWNER, PEER = "bob@localhost", "alice@localhost"


def test_idProvesItsMessageOnly():
    """An id proves the owner, sender and message id it was made for, and nothing else."""
    ids = ArchiveIds()
    made = ids.make(OWNER, PEER, "m1")
    assert ids.proves(made, OWNER, PEER, "m1")
    assert not ids.proves(made, "carol@localhost", PEER, "m1")
    assert not ids.proves(made, OWNER, "mallory@remote.example", "m1")
    assert not ids.proves(made, OWNER, PEER, "m2")
    assert not ids.proves(made[:-1] + ("a" if made[-1] != "a" else "b"), OWNER, PEER, "m1")
    assert not ids.proves(made[-24:], OWNER, PEER, "m1")
    assert not ArchiveIds().proves(made, OWNER, PEER, "m1")


def test_idsAreUniqueAndFitTheColumn():
    """Ids are new each time, URL- and XML-safe, and within the archive's 64-character column."""
    ids = ArchiveIds()
    made = {ids.make(OWNER, PEER, "m1") for _ in range(50)}
    assert len(made) == 50
    assert all(re.fullmatch(r"[a-z2-7]{48}", m) for m in made)


def test_keyKeptInTheDataDirectory(tmp_path):
    """The key is made once in the data directory (owner-only), and ids made before a restart still prove."""
    first = ArchiveIds.fromDataDir(str(tmp_path))
    made = first.make(OWNER, PEER, "m1")
    path = tmp_path / KEY_FILE
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert ArchiveIds.fromDataDir(str(tmp_path)).proves(made, OWNER, PEER, "m1")


def test_noDataDirectory(tmp_path):
    """Without a data directory the key is the process's own and nothing is written."""
    missing = tmp_path / "absent"
    ids = ArchiveIds.fromDataDir(str(missing))
    assert ids.proves(ids.make(OWNER, PEER, ""), OWNER, PEER, "")
    assert not missing.exists()


def _message(children):
    return parse(f"<message from='{PEER}/a' to='{OWNER}/b' id='m1'><body>x</body>{children}"
                 "</message>", "jabber:server")


MARKER = "<delay xmlns='urn:xmpp:delay' from='localhost' stamp='2026-01-01T00:00:00Z'/>"


def test_redeliveredId():
    """Only a message with this server's delay marker and one stanza-id by the owner claims an id."""
    sid = f"<stanza-id xmlns='{NS_SID}' by='{OWNER}' id='abc'/>"
    other = f"<stanza-id xmlns='{NS_SID}' by='remote.example' id='theirs'/>"
    assert redeliveredId(_message(sid + other + MARKER), OWNER, ["localhost"]) == "abc"
    assert redeliveredId(_message(sid), OWNER, ["localhost"]) is None
    assert redeliveredId(_message(sid + MARKER.replace("localhost", "remote.example")),
                         OWNER, ["localhost"]) is None
    assert redeliveredId(_message(sid + sid.replace("abc", "def") + MARKER),
                         OWNER, ["localhost"]) is None
    assert redeliveredId(_message(other + MARKER), OWNER, ["localhost"]) is None
