# -*- test-case-name: tests.sm.test_archiveids -*-
"""
Archive ids that prove where they came from (XEP-0359 section 3, for
XEP-0313 with XEP-0160).

A message for a user who is offline is archived when it arrives, and the
offline store keeps it with its C{<stanza-id by='user@domain'/>}.  When the
store delivers it later, it comes back to the session manager like any
other message from its original sender, and a stanza-id naming the user's
archive that comes from outside is a forgery to be removed (XEP-0359
section 3).  To tell the two apart without a store read (which would let
the delivery overtake the message, XEP-0013 section 2.4), the id of a
received message carries its own proof: a random part and an HMAC-SHA256
tag, under a server key, of that part with the owner, the sender's bare JID
and the message's C{id} attribute.  Only this server can make one, and it
fits only the message it was made for.

The key lives in C{DATADIR/archive-ids.key}, made at first start, so ids
stay provable across restarts; without a data directory a key is made per
process (an id from before a restart is then not proven, and the message is
archived again, as a new one).
"""

import base64
import hashlib
import hmac
import os

from jabberd.ns import NS_DELAY, NS_SID
from jabberd.storage.records import randomId

__all__ = ["ArchiveIds", "KEY_FILE", "redeliveredId"]

KEY_FILE = "archive-ids.key"
_KEY_BYTES = 32
_TAG_BYTES = 15  # 24 base32 characters; with the random part 48, within the column's 64


class ArchiveIds:
    """
    Make and check the archive ids of received messages.

    @ivar key: the HMAC key.
    """

    def __init__(self, key=None):
        self.key = key if key is not None else os.urandom(_KEY_BYTES)

    @classmethod
    def fromDataDir(cls, datadir):
        """The ids under the key in C{datadir}, made there (mode 0600) if missing."""
        if not datadir or not os.path.isdir(datadir):
            return cls()
        path = os.path.join(datadir, KEY_FILE)
        try:
            with open(path, "rb") as f:
                key = f.read()
            if len(key) == _KEY_BYTES:
                return cls(key)
        except FileNotFoundError:
            pass
        key = os.urandom(_KEY_BYTES)
        fd = os.open(path + ".new", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(key)
            f.flush()
            os.fsync(f.fileno())
        os.replace(path + ".new", path)
        return cls(key)

    def _tag(self, owner, nonce, peerBare, messageId):
        text = "\0".join((owner, nonce, peerBare, messageId)).encode("utf-8")
        digest = hmac.new(self.key, text, hashlib.sha256).digest()[:_TAG_BYTES]
        return base64.b32encode(digest).decode("ascii").lower()

    def make(self, owner, peerBare, messageId):
        """A new archive id for a message C{owner} received from C{peerBare}."""
        nonce = randomId()
        return nonce + self._tag(owner, nonce, peerBare, messageId)

    def proves(self, archiveId, owner, peerBare, messageId):
        """Whether C{archiveId} was made by L{make} for exactly this message."""
        nonce, tag = archiveId[:-24], archiveId[-24:]
        if not nonce:
            return False
        return hmac.compare_digest(tag, self._tag(owner, nonce, peerBare, messageId))


def redeliveredId(stanza, owner, domains):
    """
    The archive id of C{owner} that a message delivered by the offline store
    carries: its one C{<stanza-id by=owner/>}, next to the delay marker
    (XEP-0203) one of this server's C{domains} stamps on stored messages;
    None for any other message.
    """
    claimed, marked = [], False
    for child in stanza.elements():
        if child.uri == NS_SID and child.name == "stanza-id" and child.getAttribute("by") == owner:
            claimed.append(child.getAttribute("id") or "")
        elif child.uri == NS_DELAY and child.name == "delay" \
                and child.getAttribute("from") in domains:
            marked = True
    return claimed[0] if marked and len(claimed) == 1 and claimed[0] else None
