# -*- test-case-name: tests.cluster.test_node -*-
"""
One node of a cluster (C{[cluster]}): the service that joins the session
manager to the others over NATS (L{jabberd.cluster.link}).

 - This node's session changes go out on the directory subject
   (L{jabberd.cluster.tracker}); the others' come in and are applied
   (L{jabberd.cluster.directory}).
 - A stanza for a session of another node goes to that node's subject and
   is delivered there as a local one (RFC 6121 section 8.5); one for a
   session that is no longer there is handled as for a resource that is gone
   (section 8.5.3.2.1: a chat or normal message goes to offline storage).
 - Heartbeats tell who is alive (L{jabberd.cluster.membership}); the
   sessions of a node that died are dropped everywhere, and the first node
   alive broadcasts their unavailable presence (RFC 6121 section 4.5.2).
"""

import json
import uuid
from itertools import groupby
from operator import itemgetter

from twisted.application import service
from twisted.internet import reactor as _reactor, task

from jabberd.cluster.components import ComponentRoutes, bounce
from jabberd.cluster.directory import SessionDirectory, unavailable
from jabberd.cluster.handover import Handover
from jabberd.cluster.inflight import InFlight, keepsForRetry
from jabberd.cluster.membership import Membership
from jabberd.cluster.rooms import RoomDirectory, RoomRoute, roomOf
from jabberd.cluster.tracker import SessionTracker
from jabberd.cluster.wire import Subjects, WireError, decodeBatch, encodeBatch, stanzaOf, stanzaText
from jabberd.jidutil import domainOf
from jabberd.logs import Logger

__all__ = ["ClusterNode"]


class ClusterNode(service.Service):
    """
    @ivar config: the L{jabberd.config.ClusterConfig}.
    @ivar sm: the session manager.
    @ivar link: the L{jabberd.cluster.link.NATSLink}.
    @ivar instance: this process's id, new at every start.
    @ivar counters: what this node sent and received, by kind (metrics).
    """

    log = Logger()
    name = "cluster"

    def __init__(self, config, sm, link, reactor=_reactor):
        self.config = config
        self.node = config.node
        self.sm = sm
        self.link = link
        self.reactor = reactor
        self.instance = uuid.uuid4().hex
        self.subjects = Subjects(config.name)
        self.directory = SessionDirectory(self, sm, self.node)
        self.membership = Membership(self.node, config.deadAfter, self.nodeDied, reactor)
        self.inFlight = InFlight(config.maxInFlight)
        self.router = sm.router
        self.components = ComponentRoutes(self, sm.router) if sm.router is not None else None
        self.rooms = RoomDirectory(self)
        self.conferences = []
        self.counters = {"sent": 0, "received": 0, "unreadable": 0, "relayed": 0, "reaped": 0,
                         "retried": 0}
        self._relaying = False
        self._loops = []
        self._outbox = []
        self._outboxSize = 0
        self._flushCall = None
        self.handover = Handover(self, config.handoverTimeout)
        sm.addHandler(SessionTracker(self))
        self.resumeElsewhere()

    def resumeElsewhere(self):
        """Let this node's stream management ask the others for SM-IDs it does not hold."""
        management = self.sm.handler("streammanagement")
        if management is not None:
            management.elsewhere = self.handover

    # --- start and stop ---

    def join(self):
        """Subscribe to this cluster's subjects (the link is connected)."""
        self.link.subscribe(self.subjects.directory, self._received)
        self.link.subscribe(self.subjects.heartbeat, self._received)
        self.link.subscribe(self.subjects.node(self.node), self._received)

    def routeRooms(self):
        """
        Route every in-process conference domain (XEP-0045) by room: each
        room lives on one node (L{jabberd.cluster.rooms}).
        """
        for domain, route in list(self.router.routes.items()):
            muc = getattr(getattr(route, "host", None), "muc", None)
            if muc is not None:
                self.router.removeRoute(domain, route)
                self.router.addRoute(domain, RoomRoute(self, route))
                self.conferences.append(muc)
                muc.roomGoneHooks.append(self.rooms.release)

    def startService(self):
        service.Service.startService(self)
        self.announce("hello")
        for interval, function in ((self.config.heartbeat, self._beat),
                                   (self.config.heartbeat / 2, self.membership.check)):
            loop = task.LoopingCall(function)
            loop.clock = self.reactor
            loop.start(interval, now=False)
            self._loops.append(loop)

    def stopService(self):
        service.Service.stopService(self)
        for loop in self._loops:
            loop.stop()
        self._loops = []
        self.announce("bye", handled=self.inFlight.confirmable())
        self.flush()
        return self.link.close()

    def _beat(self):
        self._publish(self.subjects.heartbeat, "beat", sessions=len(self.directory.boundAt),
                      handled=self.inFlight.confirmable())

    # --- sending ---

    def _publish(self, subject, op, xml=None, **fields):
        """
        Queue message C{op} (with the stanza XML text C{xml}) for
        C{subject}; the queue leaves at the end of this reactor turn, or
        before it would pass half of C{max_message_size}.
        """
        self.counters["sent"] += 1
        fields["op"] = op
        size = 200  # the fields, with room to spare
        if xml is not None:
            size += len(xml) if xml.isascii() else 4 * len(xml)  # UTF-8 bytes, at most
        if self._outboxSize + size > self.config.maxMessage // 2:
            self.flush()
        self._outbox.append((subject, fields, xml))
        self._outboxSize += size
        if self._flushCall is None:
            self._flushCall = self.reactor.callLater(0, self.flush)

    def flush(self):
        """Publish what is queued, one batch per run of messages to one subject."""
        if self._flushCall is not None:
            if self._flushCall.active():
                self._flushCall.cancel()
            self._flushCall = None
        outbox, self._outbox, self._outboxSize = self._outbox, [], 0
        for subject, run in groupby(outbox, key=itemgetter(0)):
            items = [(fields, xml) for _, fields, xml in run]
            self.link.publish(subject, encodeBatch(self.node, self.instance, items))

    def announce(self, op, **fields):
        """Tell every node about this node's sessions (the directory subject)."""
        self._publish(self.subjects.directory, op, **fields)

    def toSession(self, session, kind, stanza):
        """
        Send C{stanza} to the remote C{session} (C{kind} "deliver": through
        its node's C{onDeliver} hooks; "write": past them).  A stanza this
        node is relaying for a session that was not here is not sent on
        again: a directory that lags cannot make it circle.
        """
        if self._relaying:
            self._undeliverable(stanza)
            return
        self._publish(self.subjects.node(session.node), kind, full=session.full,
                      xml=stanzaText(stanza), seq=self.inFlight.sent(session.node, stanza))

    def toRouter(self, node, stanza):
        """Route C{stanza} on C{node} (to a component connected there)."""
        if self._relaying:
            bounce(self.router, stanza)
            return
        self._publish(self.subjects.node(node), "route", xml=stanzaText(stanza))

    def toRoom(self, node, stanza):
        """Deliver C{stanza} to a room that lives on C{node}."""
        if self._relaying:
            bounce(self.router, stanza)
            return
        self._publish(self.subjects.node(node), "room", xml=stanzaText(stanza))

    def closeSession(self, session, condition, text=None):
        """End the remote C{session} with stream error C{condition}."""
        self._publish(self.subjects.node(session.node), "close", full=session.full,
                      condition=condition, text=text)

    # --- receiving ---

    def _received(self, subject, data):
        try:
            messages = decodeBatch(data, self.config.maxMessage)
        except WireError as e:
            self.counters["unreadable"] += 1
            self.log.warn("unreadable cluster message on {subject}: {error}", subject=subject,
                          error=e)
            return
        for message in messages:
            self._handle(message)

    def _handle(self, message):
        if message["node"] == self.node and message.get("instance") == self.instance:
            return  # our own announcement, heard back
        if message["op"] == "status":
            self._answerStatus(message.get("reply"))  # from jabberdctl, not a node
            return
        self.counters["received"] += 1
        if self.membership.heard(message["node"], message.get("instance")) and \
                message["op"] != "hello":
            self._answerHello(message["node"])
        method = getattr(self, "op_" + message["op"], None)
        if method is None:
            self.log.debug("unknown cluster op {op!r}", op=message["op"])
            return
        try:
            method(message)
        except (WireError, KeyError, ValueError, TypeError) as e:
            self.counters["unreadable"] += 1
            self.log.warn("bad cluster {op} from {node}: {error}", op=message["op"],
                          node=message["node"], error=e)

    def op_hello(self, message):
        """A node started: it gets our sessions."""
        self._answerHello(message["node"])

    def _answerHello(self, node):
        subject = self.subjects.node(node)
        carbons = self.sm.handler("carbons")
        for bare, resources in list(self.sm.sessions.items()):
            for session in resources.values():
                if session.remote:
                    continue
                self._publish(subject, "bound", full=session.full,
                              at=self.directory.boundAt.get(session.full, 0))
                fields = {"interested": session.interested, "snapshot": True}
                if carbons is not None and carbons.isEnabled(session):
                    fields["carbons"] = True
                if session.presence is not None:
                    fields.update(presence=stanzaText(session.presence),
                                  priority=session.priority)
                self._publish(subject, "update", full=session.full, **fields)
        for domain in self.components.local() if self.components is not None else ():
            self._publish(subject, "component", domain=domain, up=True)
        for room in self.rooms.mine():
            self._publish(subject, "room", room=room)

    def op_beat(self, message):
        """Alive (L{Membership.heard} saw it); what it confirms of ours is no longer kept."""
        handled = message.get("handled")
        if isinstance(handled, dict) and isinstance(handled.get(self.node), int):
            self.inFlight.confirmed(message["node"], handled[self.node])

    def op_bye(self, message):
        """A node stopped cleanly: its sessions ended and said so; forget what is left."""
        self.membership.left(message["node"], message.get("instance"))
        for session in self.directory.dropNode(message["node"]):
            session.active = False
        self.op_beat(message)
        self._retry(message["node"])

    def op_bound(self, message):
        self.directory.bound(message)

    def op_update(self, message):
        self.directory.updated(message)

    def op_ended(self, message):
        self.directory.ended(message)

    def op_deliver(self, message):
        self._toLocal(message, "deliver")

    def op_write(self, message):
        self._toLocal(message, "write")

    def _toLocal(self, message, kind):
        stanza = _stanza(message)
        session = self.sm.session(message["full"])
        if session is not None and not session.remote:
            getattr(session, kind)(stanza)
            self.inFlight.handled(message["node"], message.get("seq"),
                                  session if keepsForRetry(stanza) else None)
            return
        self.inFlight.handled(message["node"], message.get("seq"))
        moved = self.handover.forwardTo(message["full"]) if not message.get("moved") else None
        if moved is not None:
            # Handed over from here (XEP-0198 resumption elsewhere): on to
            # its new node, once; this node keeps it until that node confirms.
            self._publish(self.subjects.node(moved.node), kind, full=moved.full, moved=True,
                          xml=stanzaText(stanza), seq=self.inFlight.sent(moved.node, stanza))
            return
        self.counters["relayed"] += 1
        self._relayed(self._undeliverable, stanza)

    def _undeliverable(self, stanza):
        """
        A stanza for a session that ended: a chat or normal message is
        offered to offline storage (RFC 6121 section 8.5.3.2.1); anything
        else is dropped, as for a resource that is gone.
        """
        if keepsForRetry(stanza):
            self.sm.undeliverable(stanza)

    def op_handover(self, message):
        """A node's client resumes with an SM-ID (XEP-0198 section 5): hand it over if ours."""
        self.handover.requested(message)

    def op_handed(self, message):
        """The answer to this node's C{handover}: the session's state, or why not."""
        self.handover.answered(message)

    def op_component(self, message):
        """A component connected to, or left, the sending node."""
        if self.components is None or not isinstance(message.get("domain"), str):
            return
        if message.get("up"):
            self.components.connected(message["domain"].lower(), message["node"])
        else:
            self.components.disconnected(message["domain"].lower(), message["node"])

    def op_route(self, message):
        """A stanza for a component connected here, checked by the sending node's router."""
        self._relayed(self.router.route, _stanza(message))

    def op_room(self, message):
        """A room claim, or a stanza for a room this node holds (it claims it)."""
        if "stanza" not in message and "xml" not in message:
            if message.get("released"):
                self.rooms.released(message["room"], message["node"])
            else:
                self.rooms.claimed(message["room"], message["node"])
            return
        stanza = _stanza(message)
        route = self.router.routes.get(domainOf(stanza.getAttribute("to") or ""))
        if not isinstance(route, RoomRoute):
            bounce(self.router, stanza)
            return
        room = roomOf(stanza)
        self.rooms.claim(room)
        route.deliverHere(room, stanza)

    def _relayed(self, function, stanza):
        """Run C{function(stanza)} for another node: nothing it does is sent on again."""
        self._relaying = True
        try:
            function(stanza)
        finally:
            self._relaying = False

    def op_close(self, message):
        session = self.sm.session(message["full"])
        if session is not None and not session.remote:
            session.close(message.get("condition") or "conflict", message.get("text"))

    # --- nodes dying ---

    def nodeDied(self, node):
        """
        C{node} is dead (or restarted): its sessions are gone; the reaper
        tells their contacts and their other resources (RFC 6121 section
        4.5.2), as if each session had ended.
        """
        sessions = self.directory.dropNode(node)
        reaper = self.membership.isReaper()
        self.log.warn("cluster node {node} is gone with {count} sessions{action}", node=node,
                      count=len(sessions), action="; telling their contacts" if reaper else "")
        presence = self.sm.handler("presence")
        for session in sessions:
            if reaper:
                # Contacts, and this node's resources of the user.
                self.counters["reaped"] += 1
                presence.broadcastUnavailable(session, unavailable(session.full))
            else:
                self.directory.toOwnResources(session, unavailable(session.full))
            session.active = False
        self._retry(node)
        if self.components is not None:
            self.components.nodeGone(node)
        self.rooms.nodeGone(node)
        for muc in self.conferences:
            muc.refresh()  # rooms of the dead node may come here: read them again

    def _retry(self, node):
        """What C{node} never confirmed is undeliverable: offline storage takes the messages."""
        lost = self.inFlight.lost(node)
        if lost:
            self.log.warn("{count} messages to {node} unconfirmed: to offline storage",
                          count=len(lost), node=node)
        self.counters["retried"] += len(lost)
        for stanza in lost:
            self._undeliverable(stanza)

    def _answerStatus(self, reply):
        if isinstance(reply, str) and reply and " " not in reply:
            self.flush()
            self.counters["sent"] += 1
            self.link.publish(reply, json.dumps(self.status()).encode("utf-8"))

    def status(self):
        """What C{jabberdctl cluster status} shows of this node."""
        return {"node": self.node, "instance": self.instance,
                "alive": self.membership.alive(),
                "sessions": {name: self.directory.sessionCount(name)
                             for name in self.membership.alive() if name != self.node}
                | {self.node: len(self.directory.boundAt)},
                "rooms": self.rooms.countByNode(),
                "components": {d: r.node for d, r in self.components.remote.items()}
                | {d: self.node for d in self.components.local()}
                if self.components is not None else {},
                "counters": dict(self.counters)}



def _stanza(message):
    """The stanza a message carries: parsed with its batch, or as its own XML text."""
    stanza = message.get("stanza")
    if stanza is None:
        stanza = stanzaOf(message.get("xml"))
        if stanza is None:
            raise WireError("no stanza")
    return stanza
