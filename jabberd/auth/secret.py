# -*- test-case-name: tests.auth.test_secret -*-
"""
The server's own secret, kept in the data directory.

Stand-in SCRAM salts for accounts that do not exist (RFC 5802 section 9
leaves it to the server not to reveal which accounts exist) are an HMAC
of the username under this secret: the same name gets the same salt on
every connection, from every listener and after every restart, like a
real account's stored salt.  A secret made anew at each start would let a
client tell missing accounts apart by their salt changing.
"""

import os
import secrets

__all__ = ["SECRET_FILE", "serverSecret"]

SECRET_FILE = "server-secret"
"""The file, in C{[server] datadir}, holding the secret in hex."""


def serverSecret(datadir):
    """The 32-byte secret of the server whose data is in C{datadir}; made on first use."""
    path = os.path.join(datadir, SECRET_FILE)
    try:
        with open(path, encoding="ascii") as f:
            value = bytes.fromhex(f.read().strip())
        if len(value) >= 16:
            return value
    except (FileNotFoundError, ValueError):
        pass
    value = secrets.token_bytes(32)
    os.makedirs(datadir, exist_ok=True)
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(value.hex() + "\n")
    os.replace(tmp, path)
    return value
