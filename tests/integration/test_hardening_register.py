"""
The per-address registration limit against the real server over IPv6
(issue 14, item 10): an IPv6 client may use any address of its /64, so
C{[component:register.*] max_per_ip} counts per /64 (C{ipv6_prefix}).  The
server runs in a network namespace of the test's own on a ULA address
(RFC 4193); clients register from other namespaces, three addresses of one
/64 and one of another.  An honest client's ping is answered within 2 s
meanwhile.
"""

import pytest

from tests.integration.clients import Client, run
from tests.integration.harness import ServerProcess
from tests.integration.test_register import PreAuthStream
from tests.integration.watch import PING_LIMIT, rewriteConfig, whilePinging
from tests.netns import Network

SERVER = "fd00:14::1"
PER_PREFIX = 2
REGISTER = ("[component:register.localhost]\nplugin = register\ntrusted = yes\n"
            "delegate = jabber:iq:register\nopen = yes\n")


@pytest.fixture(scope="module")
def network():
    """A server host on fd00:14::/64, three clients in fd00:14:0:1::/64, one in fd00:14:0:2::/64."""
    with Network(onlink=["fd00:14::/48"]) as net:
        net.addHost("server", [SERVER + "/64"])
        for name, address in (("a1", "fd00:14:0:1::a"), ("a2", "fd00:14:0:1::b"),
                              ("a3", "fd00:14:0:1:ffff:1:2:3"), ("b1", "fd00:14:0:2::a")):
            net.addHost(name, [address + "/64"])
        yield net


@pytest.fixture(scope="module")
def server(network, tmp_path_factory):
    """
    jabberd in the server host: direct TLS on its ULA address, STARTTLS on
    its own loopback (for the honest client), two registrations per /64.
    """
    proc = ServerProcess(tmp_path_factory.mktemp("register6"))
    escaped = SERVER.replace(":", "\\:")
    rewriteConfig(proc, {"listen_tls = tcp:0:interface=127.0.0.1":
                         f"listen_tls = tcp6:0:interface={escaped}",
                         REGISTER: REGISTER + f"max_per_ip = {PER_PREFIX}\n"})
    # A process started from inside the namespace lives in it.
    network.hosts["server"].call(proc.start)
    proc.adduser("honest", "honestpw")
    yield proc
    proc.stop()


def registerFrom(host, port, username):
    """Register C{username} over a stream opened from C{host}; (type, condition)."""
    def inside():
        stream = PreAuthStream(port, host=SERVER)
        try:
            return stream.register(username, "pw-" + username)
        finally:
            stream.close()
    return host.call(inside)


def test_registrationLimitHoldsPerSlashSixtyFour(network, server):
    """Two registrations from one /64 pass, a third from another address of it is refused, another /64 still registers."""
    hosts = network.hosts
    port = server.ports["c2s-tls"]

    def attack():
        return [registerFrom(hosts[name], port, "user" + name)
                for name in ("a1", "a2", "a3", "b1")]

    async def main():
        honest = Client("honest@localhost/ping", "honestpw")
        assert await honest.login(server.ports["c2s"])
        answers, pings = await whilePinging(honest, attack)
        await honest.close()
        return answers, pings

    answers, pings = hosts["server"].call(run, main())
    assert answers == [("result", None), ("result", None), ("error", "resource-constraint"),
                       ("result", None)]
    assert pings and max(pings) < PING_LIMIT
    users = server.ctl("users").stdout.split()
    assert {"usera1", "usera2", "userb1"} <= set(users) and "usera3" not in users
