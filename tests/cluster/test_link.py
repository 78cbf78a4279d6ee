"""
Tests for L{jabberd.cluster.link} against the NATS server (skipped when
it is unreachable, except under CI).
"""

import os
import uuid

import pytest
from twisted.internet import defer, reactor
from twisted.trial import unittest

from jabberd.cluster.link import LinkError, NATSLink
from tests.integration.clusterharness import NATS_URL, natsReachable


class LinkTests(unittest.TestCase):
    """A link publishes and hears messages in order, in the reactor thread."""

    def setUp(self):
        if not natsReachable():
            if os.environ.get("CI"):
                raise AssertionError(f"NATS at {NATS_URL} is required in CI")
            raise unittest.SkipTest(f"no NATS at {NATS_URL}")
        self.link = NATSLink(NATS_URL).connect()
        self.addCleanup(self.link.close)

    @defer.inlineCallbacks
    def test_publishedMessagesArriveInOrder(self):
        """A hundred messages on a subscribed subject come back in the order sent."""
        subject = "jdtest" + uuid.uuid4().hex
        heard = []
        done = defer.Deferred()

        def onMessage(subject, data):
            heard.append(data)
            if len(heard) == 100:
                done.callback(None)

        self.link.subscribe(subject, onMessage)
        yield deferLater(0.2)  # the subscription reaches the server first
        for i in range(100):
            self.link.publish(subject, str(i).encode())
        yield done
        self.assertEqual(heard, [str(i).encode() for i in range(100)])


def deferLater(seconds):
    from twisted.internet import task

    return task.deferLater(reactor, seconds, lambda: None)


def test_unreachableIsLinkError():
    """A NATS URL where nothing listens is a LinkError naming it."""
    link = NATSLink("nats://127.0.0.1:1", connectTimeout=1)
    with pytest.raises(LinkError, match="127.0.0.1:1"):
        link.connect()
