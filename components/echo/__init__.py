# -*- test-case-name: tests.components.test_echo -*-
"""
An echo service: the smallest complete component, and the one to copy.

It sends every chat or normal message back to its sender (RFC 6121
section 5), and answers Service Discovery (XEP-0030) and Software Version
(XEP-0092) through the shared L{ServiceInfoHandler}.

In process::

    [component:echo.localhost]
    plugin = echo
    name = Echo service          ; optional, the disco identity name

Out of process, over XEP-0114, add C{secret = ...} and C{external = yes}
and run C{twistd -n jabberd-component -c etc/jabberd.ini echo.localhost}.
"""

from twisted.words.protocols.jabber.xmlstream import toResponse

from jabberd.component.info import ServiceInfoHandler
from jabberd.handler import Handler
from jabberd.host import Host
from jabberd.stanza import firstChild

__all__ = ["makeHost", "EchoHandler"]


def makeHost(config, componentConfig, storage):
    """The plugin entry point: a host for the component's domain and its handlers."""
    host = Host([componentConfig.domain])
    host.addHandler(ServiceInfoHandler(componentConfig.options.get("name", "Echo service")))
    host.addHandler(EchoHandler())
    return host


class EchoHandler(Handler):
    """Send each message's body back to whoever sent it."""

    def onInbound(self, stanza):
        """
        Consume every message that is not an error; reply to those worth a
        reply.  Returning False leaves other stanzas to the host (iqs to
        their handlers, presence dropped).
        """
        if stanza.name != "message" or stanza.getAttribute("type") == "error":
            return False
        reply = self.makeReply(stanza)
        if reply is not None:
            self.send(reply)
        return True

    def makeReply(self, message):
        """
        The echo of C{message}, or None: bodiless messages (chat states)
        need none, and a groupchat or headline message must not be
        answered (RFC 6121 section 5.2.2) or two services could loop.
        """
        kind = message.getAttribute("type", "normal")
        body = firstChild(message, message.uri, "body")
        if body is None or kind in ("groupchat", "headline"):
            return None
        reply = toResponse(message, kind)
        reply.addElement("body", content=str(body))
        thread = firstChild(message, message.uri, "thread")
        if thread is not None:
            reply.addElement("thread", content=str(thread))
        return reply
