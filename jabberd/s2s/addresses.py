# -*- test-case-name: tests.s2s.test_addresses -*-
"""
Which addresses this server may dial for server-to-server traffic.

Every local user can make the server open a connection by addressing a
stanza to C{x@DOMAIN}, and every peer can by presenting a dialback key
(XEP-0220 section 2.2 makes us dial the claimed domain back).  Left
open, that turns the server into a request-forgery and port-scanning
tool against the networks it sits in.  So, by default:

 - a domain that is an IP literal (RFC 6120 section 3.2 allows them,
   servers refuse them by default) is not dialed;
 - a name is resolved first, and only an address that is globally
   routable (not loopback, private, link-local, shared, multicast or
   reserved) is connected to.

C{[s2s] allow_private_addresses}, C{allowed_networks} and
C{allow_ip_literals} open this up for tests and internal federations.
"""

import ipaddress

__all__ = ["AddressPolicy", "asAddress"]


def asAddress(text):
    """C{text} as an address (brackets and an IPv4-mapped form unwrapped), or None."""
    try:
        address = ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return None
    if address.version == 6 and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


class AddressPolicy:
    """
    @ivar allowPrivate: any address may be dialed, globally routable or not.
    @ivar allowedNetworks: networks dialed even though they are not public.
    @ivar allowIPLiterals: a domain that is an IP address may be dialed.
    """

    def __init__(self, allowPrivate=False, allowedNetworks=(), allowIPLiterals=False):
        self.allowPrivate = allowPrivate
        self.allowedNetworks = list(allowedNetworks)
        self.allowIPLiterals = allowIPLiterals

    @staticmethod
    def networks(entries):
        """C{entries} (CIDR strings) as networks."""
        return [ipaddress.ip_network(entry, strict=False) for entry in entries]

    @classmethod
    def fromConfig(cls, s2s):
        """The policy of an L{S2SConfig}."""
        return cls(s2s.allowPrivateAddresses, s2s.allowedNetworks, s2s.allowIPLiterals)

    def refusesDomain(self, domain):
        """Why C{domain} is not dialed at all (a reason), or None."""
        if not self.allowIPLiterals and asAddress(domain) is not None:
            return f"{domain} is an IP literal"
        return None

    def refusesAddress(self, host):
        """Why the resolved address C{host} may not be connected to, or None."""
        address = asAddress(host)
        if address is None:
            return f"{host} is not an address"
        if self.allowPrivate or any(address in net for net in self.allowedNetworks
                                    if net.version == address.version):
            return None
        if not address.is_global or address.is_multicast:
            return f"{host} is not a public address"
        return None
