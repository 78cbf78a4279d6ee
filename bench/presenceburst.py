"""
The presence work of the C{roster} scenario, in one process and without
sockets: C{python -m bench.presenceburst [--tree DIR] [--caps] [--rounds N]}.

    python -m bench.presenceburst --tree /tmp/base --rounds 15
    python -m bench.presenceburst --rounds 15

The session manager of a source tree (all its handlers, as
L{jabberd.sm.modules.buildSessionManager} attaches them, on memory
storage behind the server's caches) holds 51 accounts that are all mutual
contacts.  Each round binds a session for every account, then each sends
the roster get and initial presence (RFC 6121 sections 2.1.3 and 4.2): 51
rosters, 2,550 broadcast presences, 2,550 probes and their answers, every
stanza written out as a client stream writes it.  It prints the CPU time
of a round (median and best, C{time.process_time}) and a digest of every
byte written to every session, so two trees can be shown to write the
same thing.  No TLS, parsing or storage thread is in it: it measures
what the presence path costs, not a login.
"""

import argparse
import gc
import hashlib
import os
import sys
import time

DOMAIN = "bench.localhost"
CAPS = ("<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='http://bench'"
        " ver='QgayPKawpkPSDYmwT/WM94uAlu0='/>")


class CountingStream:
    """A client stream's output side: serialises as C{ClientStream.send} does, keeps a digest."""

    closing = False
    prefixes = {}
    namespace = "jabber:client"

    def __init__(self):
        self.written = 0
        self.digest = hashlib.sha1()

    def send(self, obj):
        if not isinstance(obj, (str, bytes)):
            obj = obj.toXml(prefixes=self.prefixes, defaultUri=self.namespace,
                            prefixesInScope=list(self.prefixes.values()))
        data = obj.encode("utf-8") if isinstance(obj, str) else obj
        self.written += len(data)
        self.digest.update(data)

    def closeWithError(self, condition, text=None):
        """Nothing to close."""


def build(users):
    """A session manager on memory storage where C{users} are all mutual contacts."""
    from jabberd.config import parse
    from jabberd.router import Router
    from jabberd.sm.modules import buildSessionManager
    from jabberd.storage import RosterItem
    from jabberd.storage.memory import MemoryStorage

    storage = MemoryStorage()
    for user in users:
        storage.accounts.create(user, {"password": "unused"})
        for contact in users:
            if contact != user:
                storage.roster.set(user, RosterItem(f"{contact}@{DOMAIN}", "", "both", "",
                                                    False, []))
    router = Router()
    sm = buildSessionManager(parse(f"[server]\ndomains = {DOMAIN}\n"), storage, router)
    router.attachHost(sm, trusted=True)
    return sm


def burst(sm, users, presence):
    """Every account binds, then each gets its roster and sends initial presence."""
    from twisted.words.protocols.jabber.jid import JID
    from jabberd.sm.session import Session
    from jabberd.stanza import parseElement

    sessions = []
    for user in users:
        session = Session(CountingStream(), JID(f"{user}@{DOMAIN}/bench"))
        sm.bindSession(session)
        sessions.append(session)
    for session in sessions:
        sm.outbound(session, parseElement("<iq xmlns='jabber:client' type='get' id='r1'>"
                                          "<query xmlns='jabber:iq:roster'/></iq>"))
        sm.outbound(session, parseElement(presence))
    return sessions


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m bench.presenceburst",
                                description=__doc__.split("\n")[1])
    p.add_argument("--tree", default=".", help="the jabberd source tree to measure")
    p.add_argument("--users", type=int, default=51)
    p.add_argument("--rounds", type=int, default=15)
    p.add_argument("--caps", action="store_true", help="caps (XEP-0115) in every presence")
    a = p.parse_args(argv)
    sys.path.insert(0, os.path.abspath(a.tree))
    for name in [m for m in sys.modules if m == "jabberd" or m.startswith("jabberd.")]:
        del sys.modules[name]
    users = [f"user{i}" for i in range(a.users)]
    presence = f"<presence xmlns='jabber:client'>{CAPS if a.caps else ''}</presence>"
    sm = build(users)
    times = []
    for _ in range(a.rounds):
        gc.collect()
        started = time.process_time()
        sessions = burst(sm, users, presence)
        times.append(time.process_time() - started)
        for session in sessions:
            sm.unbindSession(session)
    times.sort()
    digest = hashlib.sha1(b"".join(s.stream.digest.digest() for s in sessions)).hexdigest()
    import jabberd
    print(f"{os.path.dirname(os.path.dirname(jabberd.__file__))}: median {times[len(times) // 2] * 1000:.1f} ms, "
          f"best {times[0] * 1000:.1f} ms of CPU per burst; "
          f"{sum(s.stream.written for s in sessions)} bytes written, digest {digest[:12]}")


if __name__ == "__main__":
    main()
