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

from jabberd.config import ConfigError

__all__ = ["RegisterOptions", "DEFAULT_INSTRUCTIONS"]

DEFAULT_INSTRUCTIONS = "Choose a username and password to register with this server."
_TRUE = {"1", "yes", "true", "on"}
_FALSE = {"0", "no", "false", "off", ""}


@dataclass
class RegisterOptions:
    """
    @ivar open: whether new accounts may be created (password changes and
        removal work either way).
    @ivar maxPerIP: accounts one IP address may create per L{window}
        (0: no limit).
    @ivar window: the rate limit's window, in seconds.
    @ivar exempt: networks (L{ipaddress} objects) the limit does not apply to.
    @ivar instructions: the XEP-0077 C{<instructions/>} text.
    @ivar name: the component's disco identity name.
    """

    open: bool = False
    maxPerIP: int = 5
    window: int = 600
    exempt: list = field(default_factory=lambda: _networks(["127.0.0.0/8", "::1"]))
    instructions: str = DEFAULT_INSTRUCTIONS
    name: str = "In-band registration"

    @classmethod
    def fromConfig(cls, componentConfig):
        """Read the options of C{componentConfig} (a L{ComponentConfig})."""
        section = f"[component:{componentConfig.domain}]"
        values = componentConfig.options
        default = cls()
        exempt = values.get("exempt")
        try:
            networks = default.exempt if exempt is None else _networks(
                exempt.replace(",", " ").split())
        except ValueError as e:
            raise ConfigError(f"{section} exempt: {e}")
        return cls(
            open=_bool(section, "open", values.get("open"), default.open),
            maxPerIP=_count(section, "max_per_ip", values.get("max_per_ip"), default.maxPerIP),
            window=_count(section, "window", values.get("window"), default.window),
            exempt=networks,
            instructions=values.get("instructions", default.instructions).strip(),
            name=values.get("name", default.name).strip(),
        )


def _networks(texts):
    return [ipaddress.ip_network(text, strict=False) for text in texts]


def _bool(section, key, raw, default):
    if raw is None:
        return default
    lowered = raw.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ConfigError(f"{section} {key}: expected yes or no, got {raw!r}")


def _count(section, key, raw, default):
    if raw is None:
        return default
    text = raw.strip()
    if not (text.isascii() and text.isdigit()):
        raise ConfigError(f"{section} {key}: expected a whole number, got {raw!r}")
    return int(text)
