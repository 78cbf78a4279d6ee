# -*- test-case-name: tests.pubsub.test_protocol -*-
"""
The errors of Publish-Subscribe (XEP-0060 sections 5-8): an RFC 6120 stanza
error condition with, where the specification names one, an application
condition in the C{http://jabber.org/protocol/pubsub#errors} namespace
(XEP-0060 section 14.2 lists them).
"""

from twisted.words.xish import domish

from jabberd.error import StanzaError
from jabberd.ns import NS_PUBSUB_ERRORS

__all__ = ["pubsubError", "nodeNotFound", "nodeIdRequired", "unsupported",
           "preconditionNotMet", "forbidden"]


def pubsubError(condition, pubsubCondition=None, feature=None, text=None):
    """
    A L{StanzaError} of C{condition}, carrying C{<pubsubCondition
    xmlns='...#errors'/>} if given (with C{feature} for C{unsupported}).
    """
    app = None
    if pubsubCondition is not None:
        app = domish.Element((NS_PUBSUB_ERRORS, pubsubCondition))
        if feature is not None:
            app["feature"] = feature
    return StanzaError(condition, text=text, appCondition=app)


def nodeNotFound():
    """Sections 6.1.3.12, 6.5.9.11, 7.1.3.3, 8.4.3.2: no such node."""
    return pubsubError("item-not-found")


def nodeIdRequired():
    """Sections 6.5.9 and 7.2.3.3: a request that must name a node did not."""
    return pubsubError("bad-request", "nodeid-required")


def unsupported(feature):
    """Section 14.2: C{feature-not-implemented} with C{<unsupported feature=.../>}."""
    return pubsubError("feature-not-implemented", "unsupported", feature=feature)


def preconditionNotMet(text=None):
    """Section 7.1.5: publish-options that differ from the node's configuration."""
    return pubsubError("conflict", "precondition-not-met", text=text)


def forbidden(text=None):
    """Sections 7.1.3.1, 7.2.3.1, 8.x: the requester lacks the affiliation it needs."""
    return pubsubError("forbidden", text=text)
