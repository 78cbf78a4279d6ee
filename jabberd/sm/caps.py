# -*- test-case-name: tests.sm.test_caps -*-
"""
Entity Capabilities (XEP-0115) in the session manager: which features each
available local resource, and each remote entity that sends presence to a
local user, has verifiably advertised.  PEP (XEP-0163 section 4) asks it
who is interested in a node's notifications (L{CapsHandler.wants}) and
hears, through the C{capsKnown} hook, when a resource's interest becomes
known.

 - Presence (section 6.1): the C{<c hash node ver/>} of a local session's
   broadcast presence, and of presence a remote full JID sends a local user
   who has a session, maps that full JID to its verification string.
   Presence from the server's components (room occupants, XEP-0045, who
   pass their caps on) is not tracked: such JIDs subscribe to no one.
   Unavailable presence, a presence error, or the end of the session
   forgets it; so does the last session of the local users a remote entity
   sent presence to.  A presence without C{<c/>} keeps what was known (a
   client may omit it on updates, section 8.4); caps without a C{hash}
   (the legacy format of section 13) are ignored and not cached, as that
   section allows, and so are hashes this server does not support
   (L{jabberd.caps.HASHES}): those entities are taken to have no features
   (section 8.3).
 - Discovery (section 6.2): a string not in the cache is asked about once,
   with a disco#info query for C{node#ver} from the server to the exact
   full JID that advertised it; other entities advertising the same string
   meanwhile wait for that answer.  The answer must come from that JID
   (L{IQRequests} with exact matching) and verify (section 5.4); then the
   features are cached for every user.  An error, an ill-formed or
   mismatching answer, or no answer within C{[caps] timeout} leaves that
   entity with no features (logged), and the next entity waiting on the
   string is asked (section 5.4 step 3.9: check another generating
   entity); with none left the string may be asked again later.
 - Bounds: C{[caps] max_cached} strings are cached (least recently used
   go first; entities keep the features they resolved to);
   C{[caps] max_queries} queries are outstanding at once and as many strings
   wait, any further are not asked; C{[caps] max_entities} remote full JIDs
   are tracked.  The cache is in memory: after a restart strings are asked
   again (section 8.2 makes caching across sessions a recommendation).
 - The server's own capabilities (section 6.3) are offered in the stream
   features after authentication, computed once from the server's
   disco#info (L{jabberd.caps.infoOf}), and its C{node#ver} is answered as
   disco#info without a node is; the server advertises
   C{http://jabber.org/protocol/caps} (section 7).

The hooks run in the observe stage (L{Stage.OBSERVE}): after blocking
dropped what a blocked entity sent, before presence delivery takes the
stanza.  A presence costs a look at its children and two dictionary
look-ups; a string already known costs no query.
"""

from collections import OrderedDict

from twisted.words.xish import domish

from jabberd.caps import HASHES, IllFormed, Mismatch, capsElement, capsOf, infoOf, verify
from jabberd.disco import collectFeatures, collectIdentities, infoQuery
from jabberd.handler import Handler, Stage
from jabberd.jidutil import domainOf, internJID, parseJID
from jabberd.logs import Logger
from jabberd.ns import NS_CAPS, NS_DISCO_INFO
from jabberd.sm.iqrequests import IQRequests
from jabberd.stanza import firstChild

__all__ = ["CapsHandler", "CapsTimeout", "SERVER_NODE"]

#: The 'node' of this server's own capabilities (section 4: the software's URI).
SERVER_NODE = "urn:xmpp:jabberd:caps"


class CapsTimeout(Exception):
    """An entity did not answer the disco#info query for its caps in time."""


class _Entity:
    """
    What one full JID advertised: C{key} (hash, ver), C{node}, and the
    verified C{features} (None until verified, or when verification failed).
    C{watchers}: for a remote entity, the local bare JIDs it sent presence to.
    """

    __slots__ = ("jid", "key", "node", "features", "watchers")

    def __init__(self, jid):
        self.jid = jid
        self.key = self.node = self.features = None
        self.watchers = None


class _Query:
    """
    The disco#info round for one (hash, ver): C{candidates} are the full JIDs
    advertising it, still to be asked (full JID -> local domain to ask
    from), in order; C{asking} the one asked now, if any.
    """

    __slots__ = ("key", "candidates", "asking")

    def __init__(self, key):
        self.key = key
        self.candidates = {}
        self.asking = None


class CapsHandler(Handler):
    """
    Learn, verify and cache entities' capabilities; offer the server's own.

    @ivar entities: full JID string -> L{_Entity}.
    @ivar cache: (hash, ver) -> frozenset of features, least recently used first.
    @ivar queries: (hash, ver) -> L{_Query} being asked or waiting its turn.
    @ivar waiting: keys of L{queries} not yet asked, oldest first.
    """

    log = Logger()
    handlerName = "caps"
    stage = Stage.OBSERVE

    def __init__(self, maxCached=10000, timeout=30, maxQueries=100, maxEntities=100000,
                 clock=None):
        self.maxCached, self.maxQueries, self.maxEntities = maxCached, maxQueries, maxEntities
        self.requests = IQRequests("caps", timeout, CapsTimeout, clock, exact=True)
        self.entities = {}
        self.cache = OrderedDict()
        self.queries = {}
        self.waiting = OrderedDict()
        self._remote = 0
        self._remoteOf = {}  # local bare JID -> remote full JIDs it heard from
        self._server = None
        self._overflowed = False

    @classmethod
    def fromConfig(cls, config, **kwargs):
        """The handler with the C{[caps]} settings of C{config}."""
        c = config.caps
        return cls(maxCached=c.maxCached, timeout=c.timeout, maxQueries=c.maxQueries,
                   maxEntities=c.maxEntities, **kwargs)

    # --- what PEP asks ---

    def wants(self, jid, feature):
        """
        Whether full JID C{jid} (a L{JID} or string) advertised C{feature}
        (e.g. C{urn:xmpp:avatar:metadata+notify}) in verified caps.
        """
        entity = self.entities.get(jid if isinstance(jid, str) else jid.full())
        return entity is not None and entity.features is not None and feature in entity.features

    def featuresOf(self, jid):
        """The verified features of full JID C{jid}, or None if unknown."""
        entity = self.entities.get(jid if isinstance(jid, str) else jid.full())
        return entity.features if entity is not None else None

    def heardBy(self, jid):
        """
        The local bare JIDs a remote full JID C{jid} sent presence with caps
        to (the accounts whose PEP it may be interested in); empty for a
        local session or an entity not tracked.
        """
        entity = self.entities.get(jid if isinstance(jid, str) else jid.full())
        return frozenset(entity.watchers) if entity is not None and entity.watchers else frozenset()

    # --- hooks ---

    def onOutbound(self, session, stanza):
        """A local session's broadcast presence: note or forget its caps."""
        if stanza.name == "presence" and not stanza.getAttribute("to"):
            presenceType = stanza.getAttribute("type")
            if presenceType is None:
                c = capsOf(stanza)
                if c is not None:
                    self._advertised(session.full, session.jid, c, session.jid.host,
                                     announce=session.available)
            elif presenceType == "unavailable":
                self._forget(session.full)
        return False

    def onInbound(self, stanza):
        """Remote presence to a local user, and the answers to our queries."""
        name = stanza.name
        if name == "presence":
            self._remotePresence(stanza)
        elif name == "iq" and len(self.requests):
            return self.requests.answer(stanza)
        return False

    def sessionAvailable(self, session):
        """Initial presence went out: announce caps the cache already knew."""
        entity = self.entities.get(session.full)
        if entity is not None and entity.features is not None:
            self.host.notify("capsKnown", session.jid, entity.features)

    def sessionEnded(self, session):
        """Forget the session's caps, and remote entities only its user heard from."""
        self._forget(session.full)
        if session.bare in self.host.sessions:
            return
        for full in self._remoteOf.pop(session.bare, ()):
            entity = self.entities.get(full)
            if entity is not None and entity.watchers is not None:
                entity.watchers.discard(session.bare)
                if not entity.watchers:
                    self._forget(full)

    def streamFeatures(self):
        """The server's own caps (section 6.3)."""
        hashName, node, ver = self._serverCaps()
        return [capsElement(hashName, node, ver)]

    def discoFeatures(self, target, node):
        if target.user is not None:
            return []
        if not node:
            return [NS_CAPS]
        return self._serverInfo(target, node, collectFeatures)

    def discoIdentities(self, target, node):
        if target.user is not None or not node:
            return []
        return self._serverInfo(target, node, collectIdentities)

    # --- the server's own caps ---

    def _serverCaps(self):
        if self._server is None:
            # Computed once every handler is attached: the first stream asks.
            target = internJID(self.host.domain)
            query = infoQuery("", collectIdentities(self.host, target, ""),
                              collectFeatures(self.host, target, ""))
            self._server = ("sha-1", SERVER_NODE, infoOf(query, "sha-1"))
        return self._server

    def _serverInfo(self, target, node, collect):
        """Section 6.2: the caps node of the server is answered as its plain disco#info."""
        hashName, serverNode, ver = self._serverCaps()
        if node != f"{serverNode}#{ver}":
            return []
        return collect(self.host, target, "")

    # --- learning caps from presence ---

    def _remotePresence(self, stanza):
        sender = stanza.getAttribute("from")
        if not sender or "/" not in sender:
            return
        domain = domainOf(sender)
        if self.host.isLocal(domain) or self._isComponent(domain):
            # Local resources are learnt from what they send (onOutbound);
            # a component's occupants (XEP-0045 rooms) subscribe to no one.
            return
        presenceType = stanza.getAttribute("type")
        if presenceType is None:
            c = capsOf(stanza)
            if c is None:
                return
        elif presenceType not in ("unavailable", "error"):
            return
        jid, to = parseJID(sender), parseJID(stanza.getAttribute("to") or "")
        if jid is None or to is None or to.user is None:
            return
        sender, bare = jid.full(), to.userhost()
        if presenceType is None:
            if bare in self.host.sessions:
                self._remoteAdvertised(jid, sender, bare, to.host, c)
        else:
            entity = self.entities.get(sender)
            if entity is not None and entity.watchers is not None:
                entity.watchers.discard(bare)
                heard = self._remoteOf.get(bare)
                if heard is not None:
                    heard.discard(sender)
                if not entity.watchers:
                    self._forget(sender)

    def _isComponent(self, domain):
        """Whether C{domain} is a component's: a route of the router that is not s2s."""
        router = self.host.router
        route = router.routes.get(domain) if router is not None else None
        return route is not None and not getattr(route, "remote", False)

    def _remoteAdvertised(self, jid, sender, bare, localDomain, c):
        if sender not in self.entities and self._remote >= self.maxEntities:
            self._overflow("caps: {n} remote entities tracked (max_entities); {jid} is not",
                           n=self._remote, jid=sender)
            return
        self._advertised(sender, jid, c, localDomain, announce=True)
        entity = self.entities.get(sender)
        if entity is not None:
            if entity.watchers is None:
                entity.watchers = set()
                self._remote += 1
            entity.watchers.add(bare)
            self._remoteOf.setdefault(bare, set()).add(sender)

    def _advertised(self, full, jid, c, localDomain, announce):
        """C{full} advertises caps C{c}; C{localDomain} is where we would ask from."""
        hashName, node, ver = c.getAttribute("hash"), c.getAttribute("node"), c.getAttribute("ver")
        entity = self.entities.get(full)
        if hashName not in HASHES or not node or not ver:
            # Legacy caps (section 13) or an unsupported hash: nothing to trust.
            if entity is not None:
                self._unkey(entity)
            return
        key = (hashName, ver)
        if entity is not None and entity.key == key:
            return
        if entity is None:
            entity = self.entities[full] = _Entity(jid or parseJID(full))
        else:
            self._unkey(entity)
        entity.key, entity.node = key, node
        features = self.cache.get(key)
        if features is not None:
            self.cache.move_to_end(key)
            entity.features = features
            if announce:
                self.host.notify("capsKnown", entity.jid, features)
        else:
            self._ask(key, full, localDomain)

    def _unkey(self, entity):
        """C{entity} no longer advertises its string: drop it from any query."""
        query = self.queries.get(entity.key)
        if query is not None:
            query.candidates.pop(entity.jid.full(), None)
            if query.asking is None and not query.candidates:
                del self.queries[query.key]
                self.waiting.pop(query.key, None)
        entity.key = entity.node = entity.features = None

    def _forget(self, full):
        entity = self.entities.pop(full, None)
        if entity is None:
            return
        if entity.watchers is not None:
            self._remote -= 1
        self._unkey(entity)

    # --- asking (section 6.2) and verifying (section 5.4) ---

    def _ask(self, key, full, localDomain):
        query = self.queries.get(key)
        if query is not None:
            query.candidates[full] = localDomain
            return
        if len(self.requests) >= self.maxQueries and len(self.waiting) >= self.maxQueries:
            self._overflow("caps: {n} queries outstanding and as many waiting (max_queries); "
                           "not asking {jid}", n=len(self.requests), jid=full)
            return
        query = self.queries[key] = _Query(key)
        query.candidates[full] = localDomain
        if len(self.requests) < self.maxQueries:
            self._send(query)
        else:
            self.waiting[key] = None

    def _send(self, query):
        full, localDomain = next(iter(query.candidates.items()))
        del query.candidates[full]
        query.asking = full
        entity = self.entities[full]
        iq = domish.Element((None, "iq"))
        iq["type"], iq["from"], iq["to"] = "get", localDomain, full
        iq.addElement((NS_DISCO_INFO, "query"))["node"] = f"{entity.node}#{query.key[1]}"
        d = self.requests.send(self.send, iq)
        d.addCallbacks(self._answered, self._failed, (query, full), None, (query, full))
        d.addErrback(lambda failure: self.log.failure("caps: query of {jid} failed", failure,
                                                      jid=full))

    def _answered(self, answer, query, full):
        payload = firstChild(answer, NS_DISCO_INFO, "query")
        if answer.getAttribute("type") != "result" or payload is None:
            return self._unverified(query, full, "an error or no disco#info in the answer")
        hashName, ver = query.key
        try:
            features = verify(hashName, ver, payload)
        except (IllFormed, Mismatch) as e:
            return self._unverified(query, full, str(e))
        self._remember(query.key, features)
        del self.queries[query.key]
        for jid in (full, *query.candidates):
            entity = self.entities.get(jid)
            if entity is not None and entity.key == query.key and entity.features is None:
                entity.features = features
                self.host.notify("capsKnown", entity.jid, features)
        self._next()

    def _failed(self, failure, query, full):
        failure.trap(CapsTimeout)
        self._unverified(query, full, "no answer in time")

    def _unverified(self, query, full, reason):
        self.log.info("caps: {jid} not trusted for {hash} {ver}: {reason}",
                      jid=full, hash=query.key[0], ver=query.key[1], reason=reason)
        query.asking = None
        if query.candidates:
            self._send(query)
            return
        del self.queries[query.key]
        self._next()

    def _next(self):
        """A query slot is free: ask about the oldest string waiting."""
        if not self.waiting:
            self._overflowed = False
        while self.waiting and len(self.requests) < self.maxQueries:
            key, _ = self.waiting.popitem(last=False)
            query = self.queries.get(key)
            if query is not None and query.candidates:
                self._send(query)
                return
            self.queries.pop(key, None)

    def _overflow(self, text, **fields):
        """Log that a bound was reached, once until the queries drain: no log flood."""
        if not self._overflowed:
            self._overflowed = True
            self.log.warn(text, **fields)

    def _remember(self, key, features):
        self.cache[key] = features
        self.cache.move_to_end(key)
        while len(self.cache) > self.maxCached:
            self.cache.popitem(last=False)
