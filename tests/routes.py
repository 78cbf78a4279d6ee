"""A router route for tests that keeps what it is given."""

from jabberd.router import Route


class Collector(Route):
    """A route that keeps what it is given."""

    def __init__(self, domain):
        self.domain = domain
        self.stanzas = []

    def deliver(self, stanza):
        self.stanzas.append(stanza)
