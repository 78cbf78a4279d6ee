# -*- test-case-name: tests.storage.test_pubsub -*-
"""
The PubSub store (XEP-0060, and PEP of XEP-0163 on the same tables) on
SQL: L{IPubSubStore} over a C{database} whose C{read(work, *args)} and
C{write(work, *args)} run C{work(connection, *args)} in a worker thread
(a write in one committed transaction, its Deferred firing after the
commit).

Writes to a node first lock its row (SELECT ... FOR UPDATE on PostgreSQL;
SQLite has a single writer), so concurrent publishes replace and trim to
C{max_items} one after the other and a node never holds more.

Publishes are group commits: one write is under way at a time, and the
items published meanwhile go together in the next transaction, each
publish's Deferred firing once that transaction has committed.  Under load
(PEP fan-out, a client publishing again before the last answer) the
commits get larger rather than more numerous.
"""

import json
import time

from twisted.python.failure import Failure

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from twisted.internet import defer
from zope.interface import implementer

from jabberd.storage.interfaces import IPubSubStore
from jabberd.storage.records import (NodeConfig, NodeExists, NodeNotFound, PubSubItem,
                                     PubSubNode, PubSubSubscription, itemsBeyond, randomId)
from jabberd.storage.schema import (pubsubAffiliations, pubsubItems, pubsubNodes,
                                    pubsubSubscriptions)

__all__ = ["SQLPubSubStore"]

_nodes, _items = pubsubNodes.c, pubsubItems.c
_affiliations, _subscriptions = pubsubAffiliations.c, pubsubSubscriptions.c
_NODE_DATA = (pubsubItems, pubsubAffiliations, pubsubSubscriptions)


def _nodeRow(connection, service, node, lock=False):
    """The row of C{node}, locked for this transaction if C{lock}."""
    statement = select(pubsubNodes).where(_nodes.service == service, _nodes.node == node)
    if lock:
        statement = statement.with_for_update()
    row = connection.execute(statement).first()
    if row is None:
        raise NodeNotFound(node)
    return row


def _rowToNode(row):
    return PubSubNode(row.service, row.node, NodeConfig.fromDict(json.loads(row.config)),
                      row.created)


def _rowToItem(row):
    return PubSubItem(xml=row.xml, id=row.item_id, publisher=row.publisher, stamp=row.stamp)


def _rowToSubscription(row):
    return PubSubSubscription(row.service, row.node, row.jid, row.state, row.subid,
                              json.loads(row.options))


def _trimItems(connection, nodeId, maxItems):
    """Delete the oldest items of the node beyond C{maxItems}."""
    count = connection.execute(select(func.count()).select_from(pubsubItems).where(
        _items.node_id == nodeId)).scalar_one()
    excess = itemsBeyond(maxItems, count)
    if excess:
        oldest = select(_items.seq).where(_items.node_id == nodeId).order_by(
            _items.seq).limit(excess)
        connection.execute(delete(pubsubItems).where(_items.seq.in_(oldest.scalar_subquery())))


def _publishAll(connection, batch):
    """
    The publishes of C{batch} in order, each node trimmed once at the end;
    per publish, None or the L{NodeNotFound} it met (nothing written for it).
    """
    rows, outcomes = {}, []
    for service, node, values, _d in batch:
        key = (service, node)
        try:
            row = rows.get(key) or _nodeRow(connection, service, node, lock=True)
        except NodeNotFound as e:
            outcomes.append(e)
            continue
        rows[key] = row
        # Deleting and inserting makes a replaced item the newest.
        connection.execute(delete(pubsubItems).where(
            _items.node_id == row.id, _items.item_id == values["item_id"]))
        connection.execute(insert(pubsubItems).values(node_id=row.id, **values))
        outcomes.append(None)
    for row in rows.values():
        _trimItems(connection, row.id, NodeConfig.fromDict(json.loads(row.config)).max_items)
    return outcomes


def _subscriptionsQuery():
    return select(_subscriptions.jid, _subscriptions.subid, _subscriptions.state,
                  _subscriptions.options, _nodes.service, _nodes.node).join(
        pubsubNodes, _nodes.id == _subscriptions.node_id)


@implementer(IPubSubStore)
class SQLPubSubStore:
    """
    Nodes in C{pubsub_nodes}; their items, affiliations and subscriptions
    in tables keyed by the node's id.

    @ivar database: the database the work runs on.
    """

    def __init__(self, database):
        self.database = database
        self._writing = False
        self._queued = []  # (service, node, values, Deferred) for the next group commit

    def _onNode(self, run, service, node, work, lock=False):
        """Run C{work(connection, nodeRow)} with C{run} (read or write)."""
        return run(lambda connection: work(connection, _nodeRow(connection, service, node, lock)))

    def _readNode(self, service, node, work):
        return self._onNode(self.database.read, service, node, work)

    def _writeNode(self, service, node, work):
        return self._onNode(self.database.write, service, node, work, lock=True)

    # nodes

    def createNode(self, service, node, config, owner=None):
        record = PubSubNode(service, node, config.copy(), time.time())

        def work(connection):
            try:
                nodeId = connection.execute(insert(pubsubNodes).values(
                    service=service, node=node, config=json.dumps(config.toDict()),
                    created=record.created)).inserted_primary_key[0]
            except IntegrityError:
                raise NodeExists(node) from None
            if owner is not None:
                connection.execute(insert(pubsubAffiliations).values(
                    node_id=nodeId, jid=owner, affiliation="owner"))
            return record
        return self.database.write(work)

    def getNode(self, service, node):
        def work(connection):
            try:
                return _rowToNode(_nodeRow(connection, service, node))
            except NodeNotFound:
                return None
        return self.database.read(work)

    def listNodes(self, service):
        def work(connection):
            return [_rowToNode(row) for row in connection.execute(
                select(pubsubNodes).where(_nodes.service == service).order_by(_nodes.id))]
        return self.database.read(work)

    def servicesWithNodes(self):
        def work(connection):
            return set(connection.execute(select(_nodes.service).distinct()).scalars())
        return self.database.read(work)

    def countNodes(self, service):
        def work(connection):
            return connection.execute(select(func.count()).select_from(pubsubNodes).where(
                _nodes.service == service)).scalar_one()
        return self.database.read(work)

    def configureNode(self, service, node, config):
        def work(connection, row):
            connection.execute(update(pubsubNodes).where(_nodes.id == row.id).values(
                config=json.dumps(config.toDict())))
            _trimItems(connection, row.id, config.max_items)
        return self._writeNode(service, node, work)

    def deleteNode(self, service, node):
        def work(connection, row):
            _deleteNodes(connection, [row.id])
        return self._writeNode(service, node, work)

    def removeService(self, service):
        def work(connection):
            _deleteNodes(connection, connection.execute(select(_nodes.id).where(
                _nodes.service == service)).scalars().all())
        return self.database.write(work)

    # items

    def publish(self, service, node, item):
        itemId = item.id or randomId()
        values = {"item_id": itemId, "publisher": item.publisher or "", "xml": item.xml,
                  "stamp": time.time() if item.stamp is None else item.stamp}

        d = defer.Deferred()
        self._queued.append((service, node, values, d))
        if not self._writing:
            self._commitQueued()
        return d

    def _commitQueued(self):
        """Write every queued publish in one transaction (the next waits for it)."""
        batch, self._queued = self._queued, []
        self._writing = True
        done = self.database.write(_publishAll, batch)
        done.addBoth(self._committed, batch)

    def _committed(self, outcome, batch):
        self._writing = False
        if self._queued:
            self._commitQueued()
        for index, (_service, _node, values, d) in enumerate(batch):
            if isinstance(outcome, Failure):
                d.errback(outcome)  # the transaction failed: none of it was written
            elif outcome[index] is not None:
                d.errback(outcome[index])
            else:
                d.callback(values["item_id"])

    def getItems(self, service, node, ids=None, maxItems=None):
        def work(connection, row):
            statement = select(pubsubItems).where(_items.node_id == row.id)
            if ids is not None:
                statement = statement.where(_items.item_id.in_(list(ids)))
            statement = statement.order_by(_items.seq.desc())
            if maxItems is not None:
                statement = statement.limit(maxItems)
            return [_rowToItem(r) for r in connection.execute(statement)]
        return self._readNode(service, node, work)

    def lastItem(self, service, node):
        return self.getItems(service, node, maxItems=1).addCallback(
            lambda items: items[0] if items else None)

    def retract(self, service, node, ids):
        ids = list(dict.fromkeys(ids))

        def work(connection, row):
            found = set(connection.execute(select(_items.item_id).where(
                _items.node_id == row.id, _items.item_id.in_(ids))).scalars())
            connection.execute(delete(pubsubItems).where(
                _items.node_id == row.id, _items.item_id.in_(ids)))
            return [i for i in ids if i in found]
        return self._writeNode(service, node, work)

    def purge(self, service, node):
        def work(connection, row):
            return connection.execute(delete(pubsubItems).where(
                _items.node_id == row.id)).rowcount
        return self._writeNode(service, node, work)

    # affiliations

    def setAffiliation(self, service, node, jid, affiliation):
        def work(connection, row):
            connection.execute(delete(pubsubAffiliations).where(
                _affiliations.node_id == row.id, _affiliations.jid == jid))
            if affiliation != "none":
                connection.execute(insert(pubsubAffiliations).values(
                    node_id=row.id, jid=jid, affiliation=affiliation))
        return self._writeNode(service, node, work)

    def getAffiliations(self, service, node):
        def work(connection, row):
            return dict(connection.execute(
                select(_affiliations.jid, _affiliations.affiliation).where(
                    _affiliations.node_id == row.id).order_by(_affiliations.jid)).all())
        return self._readNode(service, node, work)

    def getEntityAffiliations(self, service, jid):
        def work(connection):
            return dict(connection.execute(
                select(_nodes.node, _affiliations.affiliation)
                .join(pubsubNodes, _nodes.id == _affiliations.node_id)
                .where(_nodes.service == service, _affiliations.jid == jid)
                .order_by(_nodes.id)).all())
        return self.database.read(work)

    # subscriptions

    def subscribe(self, service, node, jid, state="subscribed", options=None):
        options = dict(options or {})

        def work(connection, row):
            match = (_subscriptions.node_id == row.id, _subscriptions.jid == jid)
            subid = connection.execute(select(_subscriptions.subid).where(*match)).scalar()
            values = {"state": state, "options": json.dumps(options)}
            if subid is None:
                subid = randomId()
                connection.execute(insert(pubsubSubscriptions).values(
                    node_id=row.id, jid=jid, subid=subid, **values))
            else:
                connection.execute(update(pubsubSubscriptions).where(*match).values(**values))
            return PubSubSubscription(service, node, jid, state, subid, options)
        return self._writeNode(service, node, work)

    def unsubscribe(self, service, node, jid):
        def work(connection, row):
            return connection.execute(delete(pubsubSubscriptions).where(
                _subscriptions.node_id == row.id, _subscriptions.jid == jid)).rowcount > 0
        return self._writeNode(service, node, work)

    def getSubscriptions(self, service, node):
        def work(connection, row):
            return [_rowToSubscription(r) for r in connection.execute(
                _subscriptionsQuery().where(_subscriptions.node_id == row.id)
                .order_by(_subscriptions.jid))]
        return self._readNode(service, node, work)

    def getSubscriberSubscriptions(self, jid, service=None):
        def work(connection):
            statement = _subscriptionsQuery().where(_subscriptions.jid == jid)
            if service is not None:
                statement = statement.where(_nodes.service == service)
            return [_rowToSubscription(r) for r in connection.execute(
                statement.order_by(_nodes.service, _nodes.id))]
        return self.database.read(work)


def _deleteNodes(connection, nodeIds):
    """Delete the nodes with C{nodeIds} and everything that refers to them."""
    if not nodeIds:
        return
    for table in _NODE_DATA:
        connection.execute(delete(table).where(table.c.node_id.in_(nodeIds)))
    connection.execute(delete(pubsubNodes).where(_nodes.id.in_(nodeIds)))
