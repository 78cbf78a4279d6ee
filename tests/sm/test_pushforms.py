"""
Tests for L{jabberd.sm.pushforms}: the data forms of a XEP-0357 enable and
the PubSub publish carrying a notification.
"""

import pytest

from jabberd.error import StanzaError
from jabberd.ns import NS_DATA, NS_PUBSUB, NS_PUBSUB_PUBLISH_OPTIONS, NS_PUSH, NS_PUSH_SUMMARY
from jabberd.sm.pushforms import formType, publishRequest, readEnableForms
from jabberd.stanza import firstChild
from tests.sm.helpers import parse


def form(formType, **fields):
    inner = "".join(f"<field var='{k}'><value>{v}</value></field>" for k, v in fields.items())
    return (f"<x xmlns='{NS_DATA}' type='submit'><field var='FORM_TYPE'>"
            f"<value>{formType}</value></field>{inner}</x>")


def enable(*forms):
    return parse(f"<enable xmlns='{NS_PUSH}' jid='push.example' node='n'>{''.join(forms)}</enable>")


def fields(x):
    return {f["var"]: str(firstChild(f, name="value")) for f in x.elements(NS_DATA, "field")}


def test_noForms():
    """An enable without forms has no options and does not ask for the body."""
    forms = readEnableForms(enable())
    assert forms.options is None and forms.wantsBody is False


def test_publishOptionsKept():
    """The publish-options form is kept whole, its secret included."""
    forms = readEnableForms(enable(form(NS_PUBSUB_PUBLISH_OPTIONS, secret="s3")))
    assert formType(forms.options) == NS_PUBSUB_PUBLISH_OPTIONS
    assert fields(forms.options)["secret"] == "s3"
    assert forms.wantsBody is False


@pytest.mark.parametrize("value, wanted", [("1", True), ("true", True), ("0", False),
                                           ("false", False)])
def test_summaryFormAsksForBody(value, wanted):
    """A summary form with last-message-body 1 or true asks for the body; 0 or false does not."""
    forms = readEnableForms(enable(form(NS_PUSH_SUMMARY, **{"last-message-body": value})))
    assert forms.wantsBody is wanted and forms.options is None


@pytest.mark.parametrize("forms", [
    (form("urn:example:other"),),
    ("<x xmlns='jabber:x:data' type='submit'/>",),
    (form(NS_PUBSUB_PUBLISH_OPTIONS), form(NS_PUBSUB_PUBLISH_OPTIONS)),
])
def test_otherFormsRefused(forms):
    """A form of another or no FORM_TYPE, or two of one, is bad-request."""
    with pytest.raises(StanzaError) as caught:
        readEnableForms(enable(*forms))
    assert caught.value.condition == "bad-request"


def test_publishRequest():
    """The publish names the node, carries the summary and the publish options."""
    options = readEnableForms(enable(form(NS_PUBSUB_PUBLISH_OPTIONS, secret="s3"))).options
    iq = publishRequest("alice@localhost", "push.example", "n1", 3, "bob@localhost/phone",
                        "hi", options)
    assert (iq["type"], iq["from"], iq["to"]) == ("set", "alice@localhost", "push.example")
    pubsub = firstChild(iq, NS_PUBSUB, "pubsub")
    publish = firstChild(pubsub, NS_PUBSUB, "publish")
    assert publish["node"] == "n1"
    notification = firstChild(firstChild(publish, NS_PUBSUB, "item"), NS_PUSH, "notification")
    summary = firstChild(notification, NS_DATA, "x")
    assert fields(summary) == {"FORM_TYPE": NS_PUSH_SUMMARY, "message-count": "3",
                               "last-message-sender": "bob@localhost/phone",
                               "last-message-body": "hi"}
    passed = firstChild(firstChild(pubsub, NS_PUBSUB, "publish-options"), NS_DATA, "x")
    assert fields(passed)["secret"] == "s3"


def test_publishRequestWithoutBodyOrOptions():
    """Without a body and options, neither last-message-body nor publish-options is sent."""
    iq = publishRequest("alice@localhost", "push.example", "n1", 1, "bob@localhost")
    pubsub = firstChild(iq, NS_PUBSUB, "pubsub")
    assert firstChild(pubsub, NS_PUBSUB, "publish-options") is None
    xml = iq.toXml()
    assert "last-message-body" not in xml and "message-count" in xml
