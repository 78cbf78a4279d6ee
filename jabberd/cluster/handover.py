# -*- test-case-name: tests.cluster.test_handover -*-
"""
Resuming a stream management session (XEP-0198 section 5) on another node
than the one holding it.

A client whose connection changed may reach another node (a load balancer,
SO_REUSEPORT) with C{<resume previd h/>}.  The SM-ID stays an unguessable
random token (section 5, security: it is a credential) and names no node:
the directory knows on which nodes the authenticated account has sessions,
and the new node asks each of them.

 - The new node sends C{handover} (SM-ID, the account, the client's 'h') to
   every node holding a resource of the account, and waits at most
   C{[cluster] handover_ms}.
 - The node holding the SM-ID checks the account, applies the client's
   'h' (section 4), and freezes the session: its open stream, if any, gets
   C{conflict}; its state leaves in the answer (full JID, both counters,
   the unacknowledged stanzas with the time each was written, presence,
   roster interest, carbons; what CSI held joins the queue).  It then ends its copy quietly: no
   unavailable presence, nothing to offline storage, no C{ended} in the
   directory.  It lists the session as a remote one on the new node, and
   forwards there what still reaches it for that full JID (one hop).
 - The new node binds the session (its C{bound} announcement carries the
   presence and moves the resource in every node's directory: the later
   bind wins, and a remote entry is replaced without C{conflict}), answers
   C{<resumed/>} and resends what the client had not acknowledged.
 - No answer in time (the node is dead or cut off), or none holding the
   SM-ID: C{<failed/>} with C{item-not-found}, as for an unknown SM-ID.  An
   answer that comes after that, or after the client left, is a session
   nobody resumes: it is bound detached and ended at once, so its contacts
   see it go and its unacknowledged messages go to offline storage.
"""

import collections
import secrets

from twisted.words.xish import domish

from jabberd.cluster.remote import RemoteSession
from jabberd.cluster.wire import stanzaOf, stanzaText
from jabberd.jidutil import parseJID
from jabberd.logs import Logger
from jabberd.ns import NS_CSI
from jabberd.sm.acks import AckState, HandledCountTooHigh, MODULO, parseH
from jabberd.sm.manager import DetachedStream
from jabberd.sm.session import Session
from jabberd.sm.streammanagement import failed

__all__ = ["Handover"]

#: Full JIDs handed over from here remembered for forwarding, at most.
MAX_MOVED = 10000


class _Request:
    """A resumption this node waits for: the client's stream and the nodes asked."""

    __slots__ = ("stream", "previd", "waiting", "condition", "call")

    def __init__(self, stream, previd, waiting):
        self.stream = stream
        self.previd = previd
        self.waiting = set(waiting)
        self.condition = "item-not-found"
        self.call = None


class Handover:
    """
    @ivar cluster: the L{jabberd.cluster.node.ClusterNode}.
    @ivar timeout: seconds the new node waits for the old one.
    @ivar requests: request id -> L{_Request} of this node's clients waiting.
    @ivar asking: the client streams in L{requests}.
    @ivar movedTo: full JID -> node it was handed to, for stanzas that still
        reach this node (the other nodes' directories lag).
    """

    log = Logger()

    def __init__(self, cluster, timeout):
        self.cluster = cluster
        self.timeout = timeout
        self.requests = {}
        self.asking = set()
        self.movedTo = collections.OrderedDict()

    @property
    def sm(self):
        return self.cluster.sm

    @property
    def handler(self):
        return self.sm.handler("streammanagement")

    # --- the new node: asking ---

    def resume(self, stream, element):
        """
        C{<resume/>} for an SM-ID this node does not hold: ask the nodes of
        the account's other sessions; whether there was anyone to ask.
        """
        bare = f"{stream.username}@{stream.domain}"
        nodes = {s.node for s in self.sm.sessionsOf(bare) if s.remote}
        if not nodes:
            return False
        h = parseH(element.getAttribute("h"))
        if h is None:
            stream.send(failed("bad-request", text="'h' must be an unsignedInt"))
            return True
        if stream in self.asking:
            # One question per stream at a time: a client repeating
            # <resume/> does not multiply requests to other nodes.
            stream.send(failed("unexpected-request", text="resumption under way"))
            return True
        self.asking.add(stream)
        rid = secrets.token_hex(12)
        request = self.requests[rid] = _Request(stream, element.getAttribute("previd"), nodes)
        request.call = self.cluster.reactor.callLater(self.timeout, self._timedOut, rid)
        for node in sorted(nodes):
            self.cluster._publish(self.cluster.subjects.node(node), "handover", id=rid,
                                  previd=request.previd, bare=bare, h=h)
        return True

    def _done(self, rid):
        """The request C{rid} is answered or given up: its L{_Request}, or None."""
        request = self.requests.pop(rid, None)
        if request is not None:
            self.asking.discard(request.stream)
            if request.call.active():
                request.call.cancel()
        return request

    def _timedOut(self, rid):
        request = self._done(rid)
        if request is not None:
            self.log.info("resumption asked of {nodes} unanswered: item-not-found",
                          nodes=sorted(request.waiting))
            self._fail(request)

    def _fail(self, request, h=None, text=None):
        stream = request.stream
        if stream.session is None and not getattr(stream, "closing", False):
            stream.send(failed(request.condition, h, text))

    def answered(self, message):
        """C{handed} from a node asked: its state, or why not."""
        request = self.requests.get(message.get("id"))
        if "full" not in message:
            if request is None:
                return
            request.waiting.discard(message["node"])
            if message.get("condition") == "undefined-condition":
                request.condition = "undefined-condition"
                h, text = message.get("h"), message.get("text")
            else:
                h = text = None
            if not request.waiting or h is not None:
                self._done(message["id"])
                self._fail(request, h, text)
            return
        self._done(message.get("id"))
        stream = request.stream if request is not None else None
        if stream is None or stream.session is not None or getattr(stream, "closing", False):
            self._abandoned(message)
        else:
            self._adopt(stream, message)

    def _session(self, stream, message):
        """A local session with the state of C{message}, bound; its L{AckState}."""
        jid = parseJID(message["full"])
        session = Session(stream, jid)
        if message.get("presence"):
            session.presence = stanzaOf(message["presence"])
            session.priority = int(message.get("priority", 0))
        session.interested = bool(message.get("interested"))
        management = AckState(session, self.handler, message["previd"],
                              int(message.get("timeout", 0)))
        management.handled = int(message["handled"]) % MODULO
        management.sent = int(message["sent"]) % MODULO
        management.acked = int(message["acked"]) % MODULO
        management.usedArchive = bool(message.get("usedArchive"))
        for stamp, xml in message.get("unacked", ()):
            stanza = stanzaOf(xml)
            if stanza is not None:
                management.unacked.append((float(stamp), stanza))
        session.management = management
        current = self.sm.session(session.full)
        if current is not None and current.remote:
            self.cluster.directory._forget(current)
        if message.get("carbons"):
            carbons = self.sm.handler("carbons")
            if carbons is not None:
                carbons.enabled.setdefault(session.bare, {})[session.resource] = session
        self.movedTo.pop(session.full, None)
        return session, management

    def _adopt(self, stream, message):
        """Section 5: the session continues on C{stream}, here."""
        session, management = self._session(stream, message)
        self.handler.resumable[management.smId] = management
        stream.adoptSession(session)
        self.sm.bindSession(session)
        self.log.info("{jid} resumed here from node {node}", jid=session.full,
                      node=message["node"])
        self.handler.resumed(stream, session, management)

    def _abandoned(self, message):
        """Handed over, but nobody resumes it here: it ends, as a detached session times out."""
        session, management = self._session(None, message)
        session.stream = DetachedStream(self.sm, session)
        session.detached = True
        self.sm.bindSession(session)
        self.log.info("{jid} handed over too late: session ended", jid=session.full)
        self.sm.unbindSession(session)

    # --- the old node: handing over ---

    def requested(self, message):
        """C{handover} from a node whose client resumes with an SM-ID: hand it over if ours."""
        asking = message["node"]
        reply = self._replier(asking, message.get("id"))
        management = self.handler.resumable.get(message.get("previd") or "")
        session = management.session if management is not None else None
        if session is None or session.bare != message.get("bare") or management.ending:
            reply(condition="item-not-found")
            return
        h = message.get("h")
        try:
            if not isinstance(h, int) or not 0 <= h < MODULO:
                raise HandledCountTooHigh(h, management.sent)
            management.ack(h)
        except HandledCountTooHigh as e:
            reply(condition="undefined-condition", h=management.handled, text=str(e))
            self.handler.end(session)
            return
        state = self._freeze(session, management)
        reply(**state)
        self._release(session, management, asking)

    def _replier(self, node, rid):
        subject = self.cluster.subjects.node(node)
        return lambda **fields: self.cluster._publish(subject, "handed", id=rid, **fields)

    def _freeze(self, session, management):
        """Stop the session here; its state, as the answer's fields."""
        self.handler.freeze(session, management)
        csi = self.sm.handler("csi")
        if csi is not None and csi.isInactive(session):
            # What CSI holds goes with the queue: the new stream starts
            # active (XEP-0352 section 5: the state is the stream's).
            csi.onNonza(session, domish.Element((NS_CSI, "active")))
        carbons = self.sm.handler("carbons")
        return {"full": session.full, "previd": management.smId,
                "handled": management.handled, "sent": management.sent,
                "acked": management.acked, "timeout": management.timeout,
                "usedArchive": management.usedArchive,
                "unacked": [[stamp, stanzaText(s)] for stamp, s in management.unacked],
                "presence": stanzaText(session.presence) if session.presence is not None
                else None,
                "priority": session.priority, "interested": session.interested,
                "carbons": carbons is not None and carbons.isEnabled(session)}

    def _release(self, session, management, node):
        """
        End the session here without telling anyone, and list it on C{node}:
        what this node still gets for it goes there.
        """
        presence, priority, interested = session.presence, session.priority, session.interested
        carbons = self.sm.handler("carbons")
        carbonsOn = carbons is not None and carbons.isEnabled(session)
        management.unacked.clear()
        session.management = None
        session.presence = None
        session.directed = frozenset()
        self.cluster.directory.quiet.add(session.full)
        try:
            self.sm.unbindSession(session)
        finally:
            self.cluster.directory.quiet.discard(session.full)
        # Bound at 0: the new node's own announcement replaces this entry.
        remote = RemoteSession(self.cluster, node, session.jid, 0)
        remote.presence, remote.priority, remote.interested = presence, priority, interested
        self.cluster.directory.byNode.setdefault(node, {})[remote.full] = remote
        self.sm.addRemote(remote)
        if carbonsOn:
            self.cluster.directory._carbons(remote, True)
        self.movedTo[remote.full] = node
        self.movedTo.move_to_end(remote.full)
        while len(self.movedTo) > MAX_MOVED:
            self.movedTo.popitem(last=False)

    def forwardTo(self, full):
        """The node a stanza for C{full} goes on to, if it was handed over from here."""
        node = self.movedTo.get(full)
        if node is None:
            return None
        session = self.sm.session(full)
        if session is None or not session.remote or session.node != node:
            del self.movedTo[full]
            return None
        return session
