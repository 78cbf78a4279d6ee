# -*- test-case-name: tests.components.register.test_register_handler -*-
"""
In-Band Registration (XEP-0077) for the server's accounts, answered by a
component the session manager delegates C{jabber:iq:register} to.

Who asks decides what a request means (the session manager stamps C{from}):

 - an unauthenticated stream (a temporary address with no localpart, see
   L{jabberd.c2s.register}): C{get} -> the fields to fill in (section 3.1);
   C{set} -> create the account: C{not-allowed} when registration is
   closed, C{not-acceptable} for a missing field or an invalid username
   (nodeprep, RFC 7622 section 3.3), C{conflict} when it is taken,
   C{resource-constraint} when the client's IP address created too many
   accounts lately;
 - a local user: C{get} -> C{<registered/>} and the username; C{set} with
   username and password -> password change (section 3.3); C{<remove/>}
   -> the account and all its data are deleted (section 3.2; the session
   manager then ends the user's sessions, L{jabberd.sm.accountremoval}).

Credentials are made as C{jabberdctl} makes them (L{makeCredentials}, with
the C{[c2s]} iteration count and plaintext policy), so both manage the same
accounts.  Their PBKDF2 runs in the handler's C{hashing} threads
(L{jabberd.auth.hashing}), never on the reactor thread; a full queue is
answered C{resource-constraint}.
"""

from jabberd.logs import Logger
from twisted.words.xish import domish

from jabberd.auth.credentials import makeCredentials
from jabberd.auth.hashing import HashingBusy, InlineHashing
from jabberd.auth.saslprep import SASLprepError, saslprep
from jabberd.jidutil import prepLocalpart
from jabberd.component.delegation import DelegatedIQHandler, clientAddress
from jabberd.error import StanzaError
from jabberd.handler import iqGet, iqSet
from jabberd.jidutil import parseJID
from jabberd.ns import NS_REGISTER, NS_VCARD
from jabberd.stanza import firstChild
from jabberd.storage import UserExists

__all__ = ["RegisterHandler", "MAX_PASSWORD"]

MAX_PASSWORD = 1023
"""Longest password accepted, in characters (SCRAM has no limit; storage does)."""


def _field(query, name):
    """The stripped text of C{query}'s child C{name}, or None when absent."""
    child = firstChild(query, NS_REGISTER, name)
    return str(child).strip() if child is not None else None


class RegisterHandler(DelegatedIQHandler):
    """
    @ivar storage: the server's L{jabberd.storage} object.
    @ivar options: the L{components.register.options.RegisterOptions}.
    @ivar limiter: the L{components.register.ratelimit.RateLimiter}.
    @ivar domains: the server's domains (whose users this serves).
    """

    log = Logger()

    def __init__(self, storage, options, limiter, domains, iterations=4096,
                 storePlaintext=False, hashing=None):
        self.storage = storage
        self.options = options
        self.limiter = limiter
        self.domains = set(domains)
        self.iterations = iterations
        self.storePlaintext = storePlaintext
        self.hashing = hashing if hashing is not None else InlineHashing()

    def requester(self, iq):
        """
        The local username asking, or None for an unauthenticated stream.

        @raise StanzaError: C{forbidden} for anyone else (a remote entity);
            C{service-unavailable} for an iq to an account instead of the
            server.
        """
        to = parseJID(iq.getAttribute("to") or "")
        if to is not None and to.user is not None:
            raise StanzaError("service-unavailable")  # accounts register with the server only
        sender = parseJID(iq.getAttribute("from") or "")
        if sender is None or sender.host not in self.domains:
            raise StanzaError("forbidden")
        return sender.user

    # get: the form (section 3.1) or the registration (section 3.2.1)

    @iqGet(NS_REGISTER)
    def onGet(self, iq):
        """The fields to fill in, or the requester's current registration."""
        username = self.requester(iq)
        query = domish.Element((NS_REGISTER, "query"))
        if username is None:
            if not self.options.open:
                raise StanzaError("not-allowed", text="registration is closed")
            query.addElement("instructions", content=self.options.instructions)
            for name in ("username", "password", "email"):
                query.addElement(name)
        else:
            query.addElement("registered")
            query.addElement("username", content=username)
            query.addElement("password")
        return query

    # set: register, change the password, or remove

    @iqSet(NS_REGISTER)
    def onSet(self, iq):
        """Dispatch a set by who asks and what it holds."""
        username = self.requester(iq)
        query = firstChild(iq, NS_REGISTER, "query")
        if firstChild(query, NS_REGISTER, "remove") is not None:
            return self.remove(username, query)
        if username is None:
            return self.register(iq, query)
        return self.changePassword(username, query)

    async def register(self, iq, query):
        """Create an account (section 3.1)."""
        if not self.options.open:
            raise StanzaError("not-allowed", text="registration is closed")
        username, password = self._credentialsOf(query)
        address = clientAddress(iq)
        if not self.limiter.take(address):
            raise StanzaError("resource-constraint", text="too many registrations, try later")
        try:
            await self.storage.accounts.create(username, await self._credentials(password))
        except UserExists:
            raise StanzaError("conflict", text="username taken")
        await self._keepEmail(username, _field(query, "email"))
        self.log.info("registered {user} from {address}", user=username, address=address)

    def _credentialsOf(self, query):
        """The prepared username and the password, or C{not-acceptable}."""
        raw, password = _field(query, "username"), _field(query, "password")
        if not raw or not password:
            raise StanzaError("not-acceptable", text="username and password are required")
        username = prepLocalpart(raw)
        if username is None:
            raise StanzaError("not-acceptable", text="invalid username")
        _checkPassword(password)
        return username, password

    async def _credentials(self, password):
        try:
            return await self.hashing.run(makeCredentials, password, self.iterations,
                                          self.storePlaintext)
        except HashingBusy:
            raise StanzaError("resource-constraint", text="the server is busy, try later")

    async def _keepEmail(self, username, email):
        """Keep the address given at registration in the new account's vCard."""
        if not email:
            return
        vcard = domish.Element((NS_VCARD, "vCard"))
        entry = vcard.addElement("EMAIL")
        entry.addElement("INTERNET")
        entry.addElement("USERID", content=email)
        await self.storage.vcards.set(username, vcard.toXml())

    async def changePassword(self, username, query):
        """Set a new password for the requester's own account (section 3.3)."""
        raw, password = _field(query, "username"), _field(query, "password")
        if raw is None:
            raise StanzaError("bad-request", text="username is required")
        if prepLocalpart(raw.partition("@")[0]) != username:
            raise StanzaError("not-allowed", text="only your own password can be changed")
        if not password:
            # Section 3.3: an empty password never replaces the current one.
            raise StanzaError("not-acceptable", text="the password must not be empty")
        _checkPassword(password)
        if not await self.storage.accounts.set(username, await self._credentials(password)):
            raise StanzaError("registration-required")
        self.log.info("{user} changed their password", user=username)

    async def remove(self, username, query):
        """Delete the requester's account and all its data (section 3.2)."""
        if len(list(query.elements())) != 1:
            raise StanzaError("bad-request", text="remove must be the only child")
        if username is None:
            raise StanzaError("unexpected-request", text="authenticate to remove an account")
        if not await self.storage.deleteUser(username):
            raise StanzaError("registration-required")
        self.log.info("{user} removed their account", user=username)


def _checkPassword(password):
    if len(password) > MAX_PASSWORD:
        raise StanzaError("not-acceptable", text="password too long")
    try:
        saslprep(password)
    except SASLprepError as e:
        # RFC 4013: such a password could never be typed the same way again.
        raise StanzaError("not-acceptable", text=f"password not allowed: {e}")
