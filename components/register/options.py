# -*- test-case-name: tests.components.register.test_register_options -*-
"""
The registration component's settings, read from its C{[component:DOMAIN]}
section.  A bad value is a L{ConfigError} naming the section and key.

Registration is closed unless the section says C{open = yes}: an account
service open to the Internet invites spam accounts, so opening it is a
decision the configuration states.
"""

import ipaddress
from dataclasses import dataclass, field

from jabberd.c2s.register import isOpen
from jabberd.config import ConfigError, Section

__all__ = ["RegisterOptions", "DEFAULT_INSTRUCTIONS"]

DEFAULT_INSTRUCTIONS = "Choose a username and password to register with this server."


@dataclass
class RegisterOptions:
    """
    @ivar open: whether new accounts may be created (password changes and
        removal work either way).
    @ivar maxPerIP: accounts one IP address may create per L{window}
        (0: no limit).
    @ivar window: the rate limit's window, in seconds.
    @ivar exempt: networks (L{ipaddress} objects) the limit does not apply to.
    @ivar ipv4Prefix: leading bits of an IPv4 address counted as one client.
    @ivar ipv6Prefix: leading bits of an IPv6 address counted as one client
        (64: a client that can pick any address of its /64 is still one).
    @ivar instructions: the XEP-0077 C{<instructions/>} text.
    @ivar name: the component's disco identity name.
    """

    open: bool = False
    maxPerIP: int = 5
    window: int = 600
    exempt: list = field(default_factory=lambda: _networks(["127.0.0.0/8", "::1"]))
    instructions: str = DEFAULT_INSTRUCTIONS
    name: str = "In-band registration"
    ipv4Prefix: int = 32
    ipv6Prefix: int = 64

    @classmethod
    def fromConfig(cls, componentConfig):
        """Read the options of C{componentConfig} (a L{ComponentConfig})."""
        section = Section.ofComponent(componentConfig)
        default = cls()
        try:
            networks = _networks(section.list("exempt", ["127.0.0.0/8", "::1"]))
        except ValueError as e:
            raise ConfigError(f"[{section.name}] exempt: {e}")
        return cls(
            open=isOpen(componentConfig),
            maxPerIP=section.int("max_per_ip", default.maxPerIP),
            window=section.int("window", default.window),
            exempt=networks,
            instructions=section.str("instructions", default.instructions),
            name=section.str("name", default.name),
            ipv4Prefix=_prefix(section, "ipv4_prefix", default.ipv4Prefix, 32),
            ipv6Prefix=_prefix(section, "ipv6_prefix", default.ipv6Prefix, 128),
        )


def _prefix(section, key, default, most):
    value = section.int(key, default)
    if not 0 < value <= most:
        raise ConfigError(f"[{section.name}] {key}: expected 1 to {most}, got {value}")
    return value


def _networks(texts):
    return [ipaddress.ip_network(text, strict=False) for text in texts]
