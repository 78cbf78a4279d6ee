"""Tests for L{components.upload.handler} and its disco (L{jabberd.component.info}) over an in-memory host."""

from twisted.internet.task import Clock
from twisted.words.xish import domish

from jabberd.host import Host
from jabberd.ns import NS_DATA, NS_DISCO_INFO, NS_DISCO_ITEMS, NS_UPLOAD, NS_XMPP_STANZAS
from jabberd.component.info import ServiceInfoHandler
from components.upload.handler import UploadHandler
from components.upload.slots import SlotManager

DOMAIN = "upload.localhost"


class StubStore:
    """No stored files, except for the owners given."""

    def __init__(self, usage=None):
        self.stored = usage or {}

    def usage(self, owner):
        return self.stored.get(owner, 0)


class StubURLs:
    """Builds slot URLs under a fixed base, or none when base is None."""

    def __init__(self, base="http://localhost:5280/upload"):
        self.base = base

    def urlFor(self, token, filename):
        return None if self.base is None else f"{self.base}/{token}/{filename}"


def makeHost(maxFileSize=1000, quota=0, urls=None, usage=None):
    slots = SlotManager(StubStore(usage), maxFileSize, quota, 300, Clock())
    host = Host([DOMAIN])
    sent = []
    host.output = sent.append
    host.addHandler(ServiceInfoHandler())
    host.addHandler(UploadHandler(slots, urls or StubURLs(), ["localhost"]))
    return host, sent, slots


def slotRequest(sender="juliet@localhost/balcony", **attrs):
    iq = domish.Element((None, "iq"))
    iq["type"], iq["id"], iq["from"], iq["to"] = "get", "u1", sender, DOMAIN
    request = iq.addElement((NS_UPLOAD, "request"))
    for key, value in attrs.items():
        request[key.replace("_", "-")] = value
    return iq


def discoRequest(ns, node=None):
    iq = domish.Element((None, "iq"))
    iq["type"], iq["id"], iq["from"], iq["to"] = "get", "d1", "juliet@localhost/b", DOMAIN
    query = iq.addElement((ns, "query"))
    if node:
        query["node"] = node
    return iq


def errorOf(reply):
    """(type, defined condition, the error element) of an error reply."""
    assert reply["type"] == "error"
    error = next(reply.elements(None, "error"))
    [condition] = [c.name for c in error.elements() if c.uri == NS_XMPP_STANZAS
                   and c.name != "text"]
    return error["type"], condition, error


def test_slotGranted():
    """A local user's request is answered with a slot holding PUT and GET URLs."""
    host, sent, slots = makeHost()
    host.receive(slotRequest(filename="cat.jpg", size="500", content_type="image/jpeg"))
    [reply] = sent
    assert reply["type"] == "result" and reply["id"] == "u1"
    assert reply["to"] == "juliet@localhost/balcony" and reply["from"] == DOMAIN
    slot = next(reply.elements(NS_UPLOAD, "slot"))
    put = next(slot.elements(NS_UPLOAD, "put"))
    get = next(slot.elements(NS_UPLOAD, "get"))
    assert put["url"].startswith("http://localhost:5280/upload/")
    assert put["url"].endswith("/cat.jpg") and get["url"] == put["url"]
    token = put["url"].split("/")[-2]
    assert slots.pending(token).owner == "juliet@localhost"


def test_fileTooLarge():
    """A too large file gets not-acceptable with file-too-large and the limit."""
    host, sent, _ = makeHost(maxFileSize=1000)
    host.receive(slotRequest(filename="big.iso", size="1001"))
    errorType, condition, error = errorOf(sent[0])
    assert (errorType, condition) == ("modify", "not-acceptable")
    tooLarge = next(error.elements(NS_UPLOAD, "file-too-large"))
    assert str(next(tooLarge.elements(NS_UPLOAD, "max-file-size"))) == "1000"


def test_quotaExceeded():
    """A request beyond the user's quota gets resource-constraint of type wait."""
    host, sent, _ = makeHost(quota=1000, usage={"juliet@localhost": 800})
    host.receive(slotRequest(filename="f", size="300"))
    assert errorOf(sent[0])[:2] == ("wait", "resource-constraint")


def test_remoteUserForbidden():
    """Users of other servers, and servers themselves, get forbidden."""
    host, sent, _ = makeHost()
    host.receive(slotRequest(sender="romeo@montague.example/garden", filename="f", size="1"))
    host.receive(slotRequest(sender="localhost", filename="f", size="1"))
    assert [errorOf(r)[:2] for r in sent] == [("cancel", "forbidden")] * 2


def test_badRequest():
    """A request without a size or filename is a bad-request."""
    host, sent, _ = makeHost()
    host.receive(slotRequest(filename="f"))
    host.receive(slotRequest(size="10"))
    assert [errorOf(r)[:2] for r in sent] == [("modify", "bad-request")] * 2


def test_noURLYet():
    """Without a public URL the request is refused and no slot stays pending."""
    host, sent, slots = makeHost(quota=1000, urls=StubURLs(base=None))
    host.receive(slotRequest(filename="f", size="1000"))
    assert errorOf(sent[0])[1] == "service-unavailable"
    assert slots.usage("juliet@localhost") == 0


def test_discoInfo():
    """disco#info shows the store/file identity, the feature and the max-file-size form."""
    host, sent, _ = makeHost(maxFileSize=1000)
    host.receive(discoRequest(NS_DISCO_INFO))
    query = next(sent[0].elements(NS_DISCO_INFO, "query"))
    identities = [(i["category"], i["type"]) for i in query.elements(NS_DISCO_INFO, "identity")]
    features = [f["var"] for f in query.elements(NS_DISCO_INFO, "feature")]
    assert identities == [("store", "file")]
    assert NS_UPLOAD in features and NS_DISCO_INFO in features
    [form] = query.elements(NS_DATA, "x")
    fields = {f["var"]: str(next(f.elements(NS_DATA, "value")))
              for f in form.elements(NS_DATA, "field")}
    assert form["type"] == "result"
    assert fields == {"FORM_TYPE": NS_UPLOAD, "max-file-size": "1000"}


def test_discoUnknownNode():
    """disco#info of a node nobody describes is item-not-found."""
    host, sent, _ = makeHost()
    host.receive(discoRequest(NS_DISCO_INFO, node="nothing"))
    assert errorOf(sent[0])[1] == "item-not-found"


def test_discoItemsEmpty():
    """disco#items of the service is an empty result."""
    host, sent, _ = makeHost()
    host.receive(discoRequest(NS_DISCO_ITEMS))
    assert sent[0]["type"] == "result"
    assert list(next(sent[0].elements(NS_DISCO_ITEMS, "query")).elements()) == []
