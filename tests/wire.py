"""
An in-memory connection for stream tests: what a protocol writes is parsed
element by element, and text is fed to it as received data.
"""

from twisted.internet.testing import StringTransport
from twisted.words.xish import domish

from jabberd.ns import NS_STREAMS, NS_XMPP_STREAMS


class Wire:
    """What one side of an in-memory stream wrote, parsed element by element."""

    def __init__(self, protocol):
        self.protocol = protocol
        self.transport = StringTransport()
        self.root = None
        self.elements = []
        self._reparse()

    def _reparse(self):
        self.parser = domish.elementStream()
        self.parser.DocumentStartEvent = self._started
        self.parser.ElementEvent = self.elements.append
        self.parser.DocumentEndEvent = lambda: None

    def _started(self, root):
        self.root = root

    def start(self):
        """Connect the protocol to the in-memory transport."""
        self.protocol.makeConnection(self.transport)
        return self

    def feed(self, text):
        self.protocol.dataReceived(text.encode("utf-8"))

    def read(self):
        """Parse what was written since the last read."""
        data = self.transport.value()
        self.transport.clear()
        del self.elements[:]
        self.parser.parse(data)
        return list(self.elements)

    def restart(self):
        """The writer started a new stream (after TLS): parse from scratch."""
        self._reparse()

    def streamError(self, elements=None):
        """The condition of a stream error in C{elements} (or the next read), or None."""
        for el in self.read() if elements is None else elements:
            if (el.uri, el.name) == (NS_STREAMS, "error"):
                return next(el.elements(NS_XMPP_STREAMS)).name
        return None
