# -*- test-case-name: tests.sm.test_push -*-
"""
Push Notifications (XEP-0357), the user's server's side: a client enables
an app server's XMPP Push Service (a PubSub service) and node for its
account, and while none of the account's clients is there to get a
message, the server publishes a notification to every enabled node.

 - Discovery (section 4.1): each account advertises C{urn:xmpp:push:0} in
   disco#info of its bare JID.
 - Enabling (section 5): an iq set to the account itself with
   C{<enable jid node/>}, optionally with a publish-options form
   (L{jabberd.sm.pushforms}).  Enabling a JID and node again replaces its
   options.  Registrations are stored (L{IPushStore}), survive restarts and
   go with the account; C{[push] max_registrations} bounds them
   (C{policy-violation} past it).
 - Disabling (section 6): C{<disable jid/>} removes every node of that
   service, C{<disable jid node/>} that one.
 - What is notified (section 7): a chat or normal message with a body for
   an account with no available session (the C{onUndeliverable} path, not
   taking the message: offline storage still gets it), or delivered to a
   session that is detached (XEP-0198, C{session.detached}) while every
   other available session of the account is detached too.  The summary
   form carries the number of such messages since the user was last back
   (initial presence, or a resumed session), the last sender, and the last
   body only for registrations that asked for it (C{[push] include_body}).
 - Coalescing: at most one publish per registration is in flight; what
   arrives meanwhile is counted, and one more publish with the latest
   summary follows the answer.
 - Errors (section 7.1): an error answer, or no answer within C{[push]
   timeout}, disables that registration, logged at warn level.

The hooks run in the delivery stage: after blocking has stopped what a
blocked entity sent, before offline storage and before the queues of CSI
and stream management take what a session gets.  Only accounts with
registrations cost anything: who has them is read once, at the first
message for an offline user, and kept in memory.
"""

from twisted.internet import defer

from jabberd.error import StanzaError
from jabberd.handler import IQHandler, Stage, iqSet
from jabberd.jidutil import parseJID
from jabberd.logs import Logger
from jabberd.ns import NS_PUSH
from jabberd.sm.iqrequests import IQRequests
from jabberd.sm.pushforms import publishRequest, readEnableForms
from jabberd.sm.target import iqTarget
from jabberd.stanza import firstChild, parseElement, serializeElement
from jabberd.storage.records import PushRegistration

__all__ = ["PushHandler", "PublishTimeout", "isNotifiable"]


class PublishTimeout(Exception):
    """The app server did not answer a publish in time."""


def isNotifiable(stanza):
    """Whether C{stanza} is a message worth a push: chat or normal, with a body."""
    if stanza.name != "message" or stanza.getAttribute("type") in ("error", "groupchat",
                                                                   "headline"):
        return False
    body = firstChild(stanza, name="body")
    return body is not None and bool(str(body).strip())


class _Target:
    """One registration being notified, with the state of its publishes."""

    __slots__ = ("registration", "options", "inFlight", "dirty")

    def __init__(self, registration):
        self.registration = registration
        self.options = parseElement(registration.options) if registration.options else None
        self.inFlight = False
        self.dirty = False


class _Missed:
    """
    What an account missed since its user was last back.

    @ivar account: the account's bare JID, which publishes (section 7).
    @ivar targets: (jid, node) -> L{_Target}, or None until the
        registrations are read.
    @ivar loading: whether they are being read.
    @ivar last: the stanza counted last (a message delivered to two
        detached sessions counts once).
    """

    __slots__ = ("account", "count", "sender", "body", "targets", "loading", "last")

    def __init__(self, account):
        self.account = account
        self.count = 0
        self.sender = self.body = self.targets = self.last = None
        self.loading = False


class PushHandler(IQHandler):
    """
    Keep accounts' push registrations and publish notifications to them.

    @ivar maxRegistrations: the most registrations per account (0: no bound).
    @ivar includeBody: C{"never"} or C{"on_request"}.
    @ivar requests: the publishes waiting for an answer.
    @ivar _users: the usernames known to have registrations.
    @ivar _indexed: whether L{_users} holds everyone's (read from the store).
    @ivar _missed: username -> L{_Missed}, for users away with registrations.
    """

    log = Logger()
    handlerName = "push"
    stage = Stage.DELIVERY

    def __init__(self, maxRegistrations=5, timeout=30, includeBody="on_request", clock=None):
        self.maxRegistrations = maxRegistrations
        self.includeBody = includeBody
        self.requests = IQRequests("push", timeout, PublishTimeout, clock)
        self._users = set()
        self._indexed = False
        self._waiters = None
        self._missed = {}
        # Enables and disables one at a time: the bound is then exact.
        self._lock = defer.DeferredLock()

    @classmethod
    def fromConfig(cls, config, **kwargs):
        """The handler with the C{[push]} settings of C{config}."""
        push = config.push
        return cls(push.maxRegistrations, push.timeout, push.includeBody, **kwargs)

    @property
    def store(self):
        return self.host.storage.push

    # --- enabling and disabling (sections 5 and 6) ---

    @iqSet(NS_PUSH)
    def onPush(self, iq):
        """Enable or disable a push service for the account that asks, for itself."""
        target = iqTarget(self.host, iq)
        if not target.isSelf:
            raise StanzaError("forbidden", text="push services are enabled for one's own account")
        request = firstChild(iq)
        service = _serviceJID(request)
        if request.name == "enable":
            registration = self._registration(request, service)
            return self._lock.run(self._enable, target.username, registration)
        if request.name == "disable":
            return self._lock.run(self._disable, target.username, service,
                                  request.getAttribute("node") or None)
        raise StanzaError("bad-request", text=f"expected enable or disable, got {request.name}")

    def _registration(self, enable, service):
        node = enable.getAttribute("node")
        # Section 5 says SHOULD, the schema requires it: a publish names
        # its node (XEP-0060 section 7.1.1), so an enable without one is
        # refused rather than kept unusable.
        if not node:
            raise StanzaError("bad-request", text="enable needs the node of the push service")
        forms = readEnableForms(enable)
        options = serializeElement(forms.options) if forms.options is not None else ""
        wantsBody = forms.wantsBody and self.includeBody == "on_request"
        return PushRegistration(service, node, options, wantsBody)

    @defer.inlineCallbacks
    def _enable(self, username, registration):
        stored = yield self.store.enable(username, registration, self.maxRegistrations)
        if not stored:
            raise StanzaError("policy-violation",
                              text=f"at most {self.maxRegistrations} push services per account")
        self._users.add(username)
        self._changed(username)
        return None

    @defer.inlineCallbacks
    def _disable(self, username, service, node, reread=True):
        yield self.store.disable(username, service, node)
        if not (yield self.store.registrations(username)):
            self._users.discard(username)
        if reread:
            self._changed(username)
        return None

    def _changed(self, username):
        """The registrations changed: read them again at the next message."""
        missed = self._missed.get(username)
        if missed is not None and not missed.loading:
            missed.targets = None

    # --- the user comes back, or goes ---

    def sessionAvailable(self, session):
        """Initial presence: the user is back, the count starts again."""
        self._missed.pop(session.username, None)

    def sessionResumed(self, session):
        """A detached session resumed (XEP-0198): the user is back."""
        self._missed.pop(session.username, None)

    def userDeleted(self, username):
        """The account is gone (its registrations went with it from the store)."""
        self._missed.pop(username, None)
        self._users.discard(username)

    # --- what is notified ---

    def onUndeliverable(self, message):
        """A message for a user with no available session: notify, leave it to storage."""
        if isNotifiable(message):
            recipient = parseJID(message.getAttribute("to") or "")
            if recipient is not None and recipient.user is not None:
                self._safely(recipient.userhost(), message)
        return False

    def onDeliver(self, session, stanza):
        """A message for a detached session, and none of the user's is attached: notify."""
        if (stanza.name == "message" and getattr(session, "detached", False)
                and isNotifiable(stanza) and self._allAway(session.bare)):
            self._safely(session.bare, stanza)
        return False

    def _safely(self, bare, message):
        # A failure to notify must not cost the message its delivery or storage.
        try:
            self.missed(bare, message)
        except Exception:
            self.log.failure("push notification for {user} failed", user=bare)

    def _allAway(self, bare):
        return all(getattr(other, "detached", False) or not other.available
                   for other in self.host.sessionsOf(bare))

    def missed(self, bare, message):
        """Count C{message} as missed by the account C{bare} and notify its registrations."""
        username = bare.partition("@")[0]
        if self._indexed and username not in self._users:
            return
        missed = self._missed.get(username)
        if missed is None:
            missed = self._missed[username] = _Missed(bare)
        elif missed.last is message:
            return
        missed.last = message
        missed.count += 1
        missed.sender = message.getAttribute("from")
        missed.body = str(firstChild(message, name="body"))
        if missed.targets is not None:
            self._notifyAll(username, missed)
        elif not missed.loading:
            missed.loading = True
            d = self._load(username, missed)
            d.addErrback(self._loadFailed, username, missed)

    @defer.inlineCallbacks
    def _load(self, username, missed):
        yield self._index()
        registrations = []
        if username in self._users:
            registrations = yield self.store.registrations(username)
        missed.loading = False
        if self._missed.get(username) is not missed:
            return  # the user came back meanwhile
        if not registrations:
            del self._missed[username]
            return
        missed.targets = {(r.jid, r.node): _Target(r) for r in registrations}
        self._notifyAll(username, missed)

    def _loadFailed(self, failure, username, missed):
        missed.loading = False
        self.log.failure("reading {user}'s push registrations failed", failure, user=username)

    def _index(self):
        """A Deferred fired once L{_users} holds everyone with registrations."""
        if self._indexed:
            return defer.succeed(None)
        waiter = defer.Deferred()
        if self._waiters is not None:
            self._waiters.append(waiter)
            return waiter
        self._waiters = [waiter]
        self.store.users().addCallbacks(self._indexRead, self._indexFailed)
        return waiter

    def _indexRead(self, users):
        self._users |= users
        self._indexed = True
        waiters, self._waiters = self._waiters, None
        for waiter in waiters:
            waiter.callback(None)

    def _indexFailed(self, failure):
        waiters, self._waiters = self._waiters, None
        for waiter in waiters:
            waiter.errback(failure)

    # --- publishing (section 7) ---

    def _notifyAll(self, username, missed):
        for target in missed.targets.values():
            if target.inFlight:
                target.dirty = True
            else:
                self._publish(username, missed, target)

    def _publish(self, username, missed, target):
        registration = target.registration
        body = missed.body if registration.includeBody else None
        iq = publishRequest(missed.account, registration.jid,
                            registration.node, missed.count, missed.sender, body,
                            target.options)
        target.inFlight, target.dirty = True, False
        d = self.requests.send(self.send, iq)
        d.addCallbacks(self._answered, self._failed, (username, missed, target), None,
                       (username, missed, target))
        d.addErrback(lambda f: self.log.failure("push to {jid} failed", f, jid=registration.jid))

    def onInbound(self, stanza):
        """Take the app servers' answers to our publishes; leave the rest."""
        return stanza.name == "iq" and self.requests.answer(stanza)

    def _answered(self, answer, username, missed, target):
        if answer.getAttribute("type") == "error":
            error = firstChild(answer, name="error")
            condition = firstChild(error) if error is not None else None
            self._disableBroken(username, missed, target,
                                condition.name if condition is not None else "error")
            return
        target.inFlight = False
        if target.dirty and self._current(username, missed, target):
            self._publish(username, missed, target)

    def _failed(self, failure, username, missed, target):
        failure.trap(PublishTimeout)
        self._disableBroken(username, missed, target, "no answer")

    def _current(self, username, missed, target):
        """Whether C{target} is still notified for this absence of C{username}."""
        registration = target.registration
        return (self._missed.get(username) is missed and missed.targets is not None
                and missed.targets.get((registration.jid, registration.node)) is target)

    def _disableBroken(self, username, missed, target, reason):
        """Section 7.1: a publish failed, that registration is disabled."""
        registration = target.registration
        self.log.warn("push to {jid} node {node} for {user} failed ({reason}): disabled",
                      jid=registration.jid, node=registration.node, user=username,
                      reason=reason)
        if self._current(username, missed, target):
            del missed.targets[(registration.jid, registration.node)]
        d = self._lock.run(self._disable, username, registration.jid, registration.node, False)
        d.addErrback(lambda f: self.log.failure("disabling a push registration failed", f))

    # --- discovery (section 4.1) ---

    def discoFeatures(self, target, node):
        """Each account supports push notifications; the server itself does not publish."""
        return [NS_PUSH] if target.user is not None and not node else []


def _serviceJID(request):
    """The push service's JID of an C{<enable/>} or C{<disable/>}, prepared."""
    address = request.getAttribute("jid")
    if not address:
        raise StanzaError("bad-request", text=f"{request.name} needs the jid of the push service")
    jid = parseJID(address)
    if jid is None:
        raise StanzaError("jid-malformed", text="not a valid push service JID")
    return jid.full()

