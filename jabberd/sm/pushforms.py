# -*- test-case-name: tests.sm.test_pushforms -*-
"""
The XML of Push Notifications (XEP-0357) apart from its logic: reading the
data forms of an C{<enable/>} (section 5) and writing the PubSub publish
that carries a notification to an app server (section 7, XEP-0060 section
7.1).

 - An C{<enable/>} may carry a data form whose FORM_TYPE is
   C{http://jabber.org/protocol/pubsub#publish-options}: credentials or
   other parameters the app server wants with every publish.  It is kept
   as given and sent back unchanged in C{<publish-options/>}.
 - Which summary fields a registration gets is a jabberd extension, as the
   XEP leaves it to the server (section 9: servers SHOULD let users limit
   what is sent): a form whose FORM_TYPE is C{urn:xmpp:push:summary} with a
   C{last-message-body} field of value C{1} or C{true} asks for the body.
   The message count and the last sender are always sent.
 - Any other form is refused with C{bad-request}.
"""

from twisted.words.xish import domish

from jabberd.error import StanzaError
from jabberd.ns import NS_DATA, NS_PUBSUB, NS_PUBSUB_PUBLISH_OPTIONS, NS_PUSH, NS_PUSH_SUMMARY
from jabberd.stanza import copyElement

__all__ = ["EnableForms", "readEnableForms", "publishRequest", "formType"]

_TRUE = ("1", "true")


class EnableForms:
    """
    What the forms of one C{<enable/>} say.

    @ivar options: the publish-options form (a L{domish.Element}), or None.
    @ivar wantsBody: whether the summary form asked for C{last-message-body}.
    """

    __slots__ = ("options", "wantsBody")

    def __init__(self, options=None, wantsBody=False):
        self.options, self.wantsBody = options, wantsBody


def formType(form):
    """The FORM_TYPE of the data form C{form} (XEP-0068), or None."""
    for field in form.elements(NS_DATA, "field"):
        if field.getAttribute("var") == "FORM_TYPE":
            return _firstValue(field)
    return None


def _firstValue(field):
    for value in field.elements(NS_DATA, "value"):
        return str(value).strip()
    return None


def readEnableForms(enable):
    """
    The L{EnableForms} of the C{<enable/>} element C{enable}.

    @raise StanzaError: C{bad-request} for a form of another FORM_TYPE or
        two forms of one.
    """
    forms = EnableForms()
    seen = set()
    for form in enable.elements(NS_DATA, "x"):
        kind = formType(form)
        if kind in seen:
            raise StanzaError("bad-request", text=f"two {kind} forms")
        seen.add(kind)
        if kind == NS_PUBSUB_PUBLISH_OPTIONS:
            forms.options = copyElement(form)
        elif kind == NS_PUSH_SUMMARY:
            forms.wantsBody = _asksForBody(form)
        else:
            raise StanzaError(
                "bad-request", text=f"expected a {NS_PUBSUB_PUBLISH_OPTIONS} form, got {kind!r}")
    return forms


def _asksForBody(form):
    for field in form.elements(NS_DATA, "field"):
        if field.getAttribute("var") == "last-message-body":
            return (_firstValue(field) or "").lower() in _TRUE
    return False


def publishRequest(sender, service, node, count, lastSender, body=None, options=None):
    """
    The iq set publishing one notification (XEP-0357 section 7) from the
    account C{sender} to C{node} at C{service}: a C{<notification/>} with
    the C{urn:xmpp:push:summary} form, and C{options} (a publish-options
    form element, or None) in C{<publish-options/>}.
    """
    iq = domish.Element((None, "iq"))
    iq["type"], iq["from"], iq["to"] = "set", sender, service
    pubsub = iq.addElement((NS_PUBSUB, "pubsub"))
    publish = pubsub.addElement("publish")
    publish["node"] = node
    notification = publish.addElement("item").addElement((NS_PUSH, "notification"))
    form = notification.addElement((NS_DATA, "x"))
    form["type"] = "submit"
    _field(form, "FORM_TYPE", NS_PUSH_SUMMARY)["type"] = "hidden"
    _field(form, "message-count", str(count))
    if lastSender:
        _field(form, "last-message-sender", lastSender)
    if body is not None:
        _field(form, "last-message-body", body)
    if options is not None:
        pubsub.addElement("publish-options").addChild(options)
    return iq


def _field(form, var, value):
    field = form.addElement("field")
    field["var"] = var
    field.addElement("value", content=value)
    return field
