# -*- test-case-name: tests.test_handler -*-
"""
The one way protocol handlers attach to a host (the session manager for local
domains, or a component for its domain) and cooperate, in the spirit of
jabberd 1.4's C{mod_*} list, Prosody's module events and ejabberd's hooks.

A L{Handler} is one protocol concern.  It cooperates with the others only
through:

 - the declared hooks of L{HOOKS}: the host calls every attached handler
   that defines a hook, in the order of the handlers' L{Stage} and then of
   attachment;
 - iq payloads declared with L{iqGet} and L{iqSet}, indexed by the host by
   (type, namespace), so dispatching an iq is one dictionary look-up
   (RFC 6120 section 8.2.3: every get/set gets exactly one result or
   error); a second handler for the same route is an error unless one of
   them declares that it overrides;
 - L{Handler.requires}: the names of handlers it calls directly, checked
   by the host at start-up (as Prosody's C{module:depends}) and reached
   with L{jabberd.host.Host.handler}.
"""

from enum import IntEnum

from jabberd.logs import Logger

__all__ = ["Handler", "IQHandler", "iqGet", "iqSet", "Hook", "HOOKS", "Stage",
           "IQRoutes", "DuplicateRoute"]


class Stage(IntEnum):
    """
    Where a handler's hooks run among the others' (lower first); within a
    stage, handlers run in attachment order.  The delivery-path stages are
    the order the next capabilities need: a stanza is first claimed by
    routing, may be stopped by policy (blocking, XEP-0191), is archived
    (XEP-0313) before copies are made (carbons, XEP-0280), is delivered,
    and the copy handed to a session may be held by CSI (XEP-0352) or
    stream management (XEP-0198) queues; storage of what could not be
    delivered, and caches, come last.
    """

    ROUTING = 0
    POLICY = 10
    ARCHIVE = 20
    COPIES = 30
    # Handlers that read what passes without taking it (entity capabilities,
    # XEP-0115, from presence), after policy and before delivery consumes it.
    OBSERVE = 35
    DELIVERY = 40
    QUEUE = 50
    STORAGE = 60
    CACHE = 90


class Hook:
    """
    One declared hook: its method name, how the host combines the handlers'
    answers, and what it is for.

    @ivar mode: C{"first"} (stop at the first true answer, which the host
        returns), C{"all"} (call every one), or C{"collect"} (concatenate
        the sequences they return).
    """

    __slots__ = ("name", "mode", "doc")

    def __init__(self, name, mode, doc):
        self.name, self.mode, self.doc = name, mode, doc

    def __repr__(self):
        return f"<Hook {self.name} ({self.mode})>"


HOOKS = {hook.name: hook for hook in (
    Hook("onInbound", "first",
         "onInbound(stanza): a stanza routed to the host's domain(s); true when consumed."),
    Hook("onOutbound", "first",
         "onOutbound(session, stanza): session manager: a stanza a local client sent, "
         "'from' already stamped (RFC 6120 section 8.1.2.1); true when consumed."),
    Hook("onDeliver", "first",
         "onDeliver(session, stanza): session manager: a stanza about to be written to a "
         "session; true when the handler took it (to hold, queue or drop it), in which case "
         "the handler writes it later with session.write() or not at all."),
    Hook("onUndeliverable", "first",
         "onUndeliverable(stanza): session manager: a chat or normal message for an existing "
         "account with no available resource (RFC 6121 section 8.5.2.2); true, or a Deferred "
         "firing true, when the handler took it (offline storage); otherwise it bounces."),
    Hook("sessionBound", "all",
         "sessionBound(session): session manager: a resource was bound (RFC 6120 section 7)."),
    Hook("sessionAvailable", "all",
         "sessionAvailable(session): session manager: a session sent initial presence "
         "(RFC 6121 section 4.2) and the server has broadcast it."),
    Hook("sessionEnded", "all",
         "sessionEnded(session): session manager: a session closed, cleanly or not."),
    Hook("sessionDetached", "all",
         "sessionDetached(session): session manager: a resumable session (XEP-0198 section 5) "
         "lost its connection; it stays bound, with session.detached true, until it is resumed "
         "or ends (then sessionEnded)."),
    Hook("sessionResumed", "all",
         "sessionResumed(session): session manager: a new connection took over a detached "
         "session (XEP-0198 section 5); session.detached is false again."),
    Hook("userDeleted", "all",
         "userDeleted(username): an account was removed; drop its data."),
    Hook("stopping", "collect",
         "stopping(): session manager: the server is stopping and every session has ended; "
         "Deferreds of the work storage must still take (queued archive writes), waited for "
         "before storage closes."),
    Hook("delegatedResult", "all",
         "delegatedResult(namespace, iq, payload): session manager: a get/set of a "
         "namespace delegated to a component (XEP-0355) was answered with a result."),
    Hook("delegatedRoutes", "collect",
         "delegatedRoutes(): component: ((type, uri), method, override) of the iqs it answers "
         "only when the server delegates them (XEP-0355), indexed by the DelegationReceiver."),
    Hook("onNonza", "first",
         "onNonza(session, element): session manager: a first-level element that is not a "
         "stanza (a nonza: XEP-0352 CSI, XEP-0198 stream management) from a bound session's "
         "stream, handled before the stream reads on (RFC 6120 section 10.1); true when "
         "handled, otherwise the stream ends with unsupported-stanza-type."),
    Hook("capsKnown", "all",
         "capsKnown(jid, features): session manager: the verified entity capabilities "
         "(XEP-0115) of full JID jid, a local session or a remote entity that sent presence "
         "to a local user, became known or changed: features is their frozenset "
         "(interest in '+notify' nodes, XEP-0163 section 4)."),
    Hook("pepPublishCheck", "collect",
         "pepPublishCheck(service, node, itemId, payload): session manager: the StanzaErrors "
         "refusing an item a client publishes to node of the PEP service (XEP-0163) of "
         "account bare JID service (payload: the item's element; itemId may be None); "
         "empty when the item is acceptable. The first error is the answer."),
    Hook("pepPublished", "collect",
         "pepPublished(service, node, items): session manager: Deferreds of the work to do "
         "because items (PubSubItem) were published to node of the PEP service of account "
         "bare JID service, by a client or by the server (XEP-0060 section 7.1.2); after the "
         "write, as subscribers are told; the publish is answered once they fire."),
    Hook("pepRetracted", "collect",
         "pepRetracted(service, node, ids): session manager: Deferreds of the work to do "
         "because the items ids of node of the PEP service of account bare JID service were "
         "retracted (XEP-0060 section 7.2), or every item went (ids None: the node was purged "
         "or deleted, sections 8.5 and 8.4), notified or not; after the write; the request is "
         "answered once they fire."),
    Hook("vcardChanged", "collect",
         "vcardChanged(jid, vcard, fromClient): session manager: Deferreds of the work to do "
         "because the vcard-temp vCard (XEP-0054) of account bare JID jid was stored; "
         "fromClient is true for a client's set, false when the server wrote it (a "
         "conversion); the set is answered once they fire; vcard is not to be changed."),
    Hook("vcardMissing", "first",
         "vcardMissing(jid, requester): session manager: a vcard-temp get of the account "
         "bare JID jid found no stored vCard; a handler may answer with a Deferred of a <vCard/> built from "
         "elsewhere (XEP-0292's vCard4), or of None."),
    Hook("rosterChanged", "all",
         "rosterChanged(bare, contact): session manager: the item for the bare JID contact "
         "in the roster of account bare JID bare was stored or removed (RFC 6121 section "
         "2.1.6, as it is pushed); PEP forgets who hears of the account's nodes."),
    Hook("pepChanged", "all",
         "pepChanged(service, node): session manager: items of the PEP node of account "
         "service (a bare JID) were published or retracted, or the node was purged or deleted "
         "(XEP-0163); told after the change is stored (XEP-0402 bookmarks conversion)."),
    Hook("privateStoring", "collect",
         "privateStoring(account, element): session manager: Deferreds of what handlers do "
         "with a private XML element (XEP-0049) of account (a bare JID) before it is stored; "
         "a failure with a StanzaError refuses the set and nothing is stored "
         "(XEP-0402 section 5.3)."),
    Hook("privateReading", "first",
         "privateReading(account, element): session manager: a Deferred of the element that "
         "answers a private XML get (XEP-0049) of element's name, or of None when the stored "
         "one answers; offered one handler at a time (XEP-0402 section 5.3)."),
    Hook("streamFeatures", "collect",
         "streamFeatures(): session manager: elements c2s adds to the features offered "
         "after authentication (RFC 6120 section 4.3.2)."),
    Hook("discoIdentities", "collect",
         "discoIdentities(target, node): (category, type, name) tuples (XEP-0030 section 3)."),
    Hook("discoFeatures", "collect",
         "discoFeatures(target, node): feature namespaces (XEP-0030 section 3)."),
    Hook("discoItems", "collect",
         "discoItems(target, node): (jid, node, name) tuples (XEP-0030 section 4)."),
    Hook("discoExtensions", "collect",
         "discoExtensions(target, node): XEP-0128 data form elements for disco#info."),
    Hook("discoRequesterItems", "collect",
         "discoRequesterItems(target, node, requester): Deferreds, each of a list of "
         "(jid, node, name) items of an account that depend on who asks (XEP-0163 section "
         "6.2: the PEP nodes the requester may see); the disco handler waits for them."),
)}


class Handler:
    """
    Base for a protocol handler: define the hooks of L{HOOKS} you need;
    the host calls only the handlers that define each hook.

    @cvar handlerName: what other handlers call this one in their C{requires}.
    @cvar requires: names of the handlers this one calls directly; the host
        refuses to start without them.
    @cvar stage: the L{Stage} this handler's hooks run in.
    @ivar host: the L{jabberd.host.Host} this handler is attached to.
    """

    log = Logger()
    handlerName = None
    requires = ()
    stage = Stage.DELIVERY
    host = None

    def setHost(self, host):
        """Attach to C{host}; called once by L{jabberd.host.Host.addHandler}."""
        self.host = host

    def send(self, stanza):
        """Send C{stanza} out through the host (to the router)."""
        self.host.send(stanza)


def _iqMarker(iqType, uri, override):
    def mark(method):
        method.__dict__.setdefault("_iqRoutes", []).append((iqType, uri, override))
        return method

    return mark


def iqGet(uri, override=False):
    """
    Mark a method as answering C{<iq type='get'>} whose payload is in
    namespace C{uri}.  C{override}: this route wins over another handler's
    for the same namespace instead of being refused as a duplicate.
    """
    return _iqMarker("get", uri, override)


def iqSet(uri, override=False):
    """Mark a method as answering C{<iq type='set'>} in namespace C{uri} (see L{iqGet})."""
    return _iqMarker("set", uri, override)


class DuplicateRoute(ValueError):
    """Two handlers answer the same iq type and namespace and neither overrides."""


class IQRoutes:
    """
    The (iq type, payload namespace) -> method index of a host (or of a
    component's delegated handlers).  A route declared with C{override}
    wins over plain routes for the same key, whichever is added first; two
    plain or two overriding routes for one key raise L{DuplicateRoute}.
    """

    def __init__(self):
        self._methods = {}
        self._overrides = set()

    def add(self, key, method, override=False):
        """Index C{method} under C{key} = (type, uri)."""
        existing = self._methods.get(key)
        if existing is not None:
            existingOverrides = key in self._overrides
            if existingOverrides == override:
                raise DuplicateRoute(
                    f"{key[0]} {key[1]}: {_owner(existing)} and {_owner(method)} both answer it")
            if existingOverrides:
                return
        self._methods[key] = method
        if override:
            self._overrides.add(key)

    def get(self, key):
        """The method for C{key}, or None."""
        return self._methods.get(key)

    def __contains__(self, key):
        return key in self._methods


def _owner(method):
    owner = getattr(method, "__self__", None)
    return type(owner).__name__ if owner is not None else getattr(method, "__qualname__", method)


class IQHandler(Handler):
    """
    A handler that answers iq payloads declared with L{iqGet}/L{iqSet}.

    A marked method is called with the iq element.  It returns the result
    payload (a L{domish.Element}), None for an empty result, or a Deferred of
    either; raising or failing with a L{StanzaError} sends that error.  The
    host wraps all of this (see L{jabberd.host.Host.handleIQ}).
    """

    def iqRoutes(self):
        """Yield ((type, uri), bound method, override) for every marked method."""
        return markedRoutes(self)


def markedRoutes(handler):
    """((type, uri), bound method, override) of C{handler}'s marked methods, subclasses first."""
    seen = set()
    for klass in type(handler).__mro__:
        for attr, value in vars(klass).items():
            if attr in seen:
                continue
            seen.add(attr)
            for iqType, uri, override in getattr(value, "_iqRoutes", ()):
                yield (iqType, uri), getattr(handler, attr), override
