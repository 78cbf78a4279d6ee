# -*- test-case-name: tests.sm.test_delegation -*-
"""
The session manager's part of in-band registration (XEP-0077 section 3.2):
when the component that answers C{jabber:iq:register} (delegated to it,
see L{jabberd.sm.delegation}) confirms that an account removed itself, the
account's sessions end with a C{not-authorized} stream error, after the
result was written, and every handler is told (C{userDeleted}).

Everything else about registration (the form, creating accounts, password
changes, the removal itself) is the component's (C{components.register}).
"""

from jabberd.handler import Handler
from jabberd.jidutil import parseJID
from jabberd.ns import NS_REGISTER
from jabberd.stanza import firstChild

__all__ = ["AccountRemoval"]


class AccountRemoval(Handler):
    """Close the sessions of accounts removed in band."""

    handlerName = "accountremoval"

    def delegatedResult(self, namespace, iq, payload):
        """A delegated register iq got a result: act on a successful C{<remove/>}."""
        if namespace != NS_REGISTER or iq.getAttribute("type") != "set":
            return
        query = firstChild(iq, NS_REGISTER, "query")
        if query is None or firstChild(query, NS_REGISTER, "remove") is None:
            return
        sender = parseJID(iq.getAttribute("from") or "")
        if sender is not None and sender.user and sender.host in self.host.domains:
            self.accountRemoved(sender.user)

    def accountRemoved(self, username):
        """End every session of C{username} (at any local domain) and tell the handlers."""
        for domain in self.host.domains:
            for session in self.host.sessionsOf(f"{username}@{domain}"):
                session.close("not-authorized", "account removed")
        self.host.userDeleted(username)
