# -*- test-case-name: tests.cluster.test_secrets -*-
"""
The keys every node of a cluster must share, derived from C{[cluster]
secret}: where a single server makes a key in its data directory, the
nodes take the same one, so that what one node made another accepts.

 - C{archive-ids}: the key of provable archive ids (XEP-0359 for
   XEP-0313 with XEP-0160, L{jabberd.sm.archiveids}): a message archived
   on one node and delivered from offline storage by another is not
   archived twice.
 - C{server-secret}: the key of stand-in SCRAM salts (RFC 5802 section 9,
   L{jabberd.auth.secret}): a missing account gets the same salt from
   every node, so the salts do not tell which accounts exist.
"""

import hashlib
import hmac

__all__ = ["derivedKey"]


def derivedKey(secret, purpose):
    """The 32-byte key for C{purpose} under the cluster's C{secret} (HMAC-SHA256)."""
    return hmac.new(secret.encode("utf-8"), purpose.encode("ascii"), hashlib.sha256).digest()
