# -*- test-case-name: tests.mam.test_query -*-
"""
Querying an archive (XEP-0313 section 4), whoever owns it: the search form
(section 4.1, form discovery, with the fields of sections 4.1.1-4.1.3),
XEP-0059 paging bounded by the archive's largest page (section 4.3), the
results as XEP-0297 forwarded messages with XEP-0203 delay stamps, and the
closing C{<fin/>}.  Times are XEP-0082 DateTimes.

A bad value is a C{bad-request}; an unknown form field
C{feature-not-implemented} (section 4.1.5); an archive id the archive
does not hold C{item-not-found} (sections 4.1.3 and 4.3).
"""

import calendar
import re
import time

from twisted.internet import defer
from twisted.words.xish import domish

from jabberd.error import StanzaError
from jabberd.jidutil import parseJID
from jabberd.logs import Logger
from jabberd.ns import NS_DATA, NS_DELAY, NS_FORWARD, NS_MAM, NS_RSM, NS_XDATA_VALIDATE
from jabberd.stanza import firstChild, parseElement
from jabberd.storage.records import UnknownArchiveId, randomId

__all__ = ["parseStamp", "formatStamp", "queryForm", "readForm", "readRSM", "runQuery",
           "resultMessage", "fin"]

log = Logger()

_FORM_FIELDS = (("with", "jid-single"), ("start", "text-single"), ("end", "text-single"),
                ("before-id", "text-single"), ("after-id", "text-single"),
                ("ids", "list-multi"))

_STAMP = re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def parseStamp(text):
    """UTC seconds of a XEP-0082 DateTime; ValueError if it is not one."""
    match = _STAMP.match(text.strip())
    if match is None:
        raise ValueError(text)
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    seconds = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))
    if not (1 <= month <= 12 and 1 <= day <= 31 and hour < 24 and minute < 60 and second < 61):
        raise ValueError(text)
    fraction = float(match.group(7)) if match.group(7) else 0.0
    zone = match.group(8)
    offset = 0 if zone == "Z" else (int(zone[1:3]) * 60 + int(zone[4:6])) * 60
    return seconds + fraction - (offset if zone[0] != "-" else -offset)


def formatStamp(seconds):
    """The XEP-0082 DateTime of UTC C{seconds}, to the millisecond."""
    whole = int(seconds)
    millis = int(round((seconds - whole) * 1000))
    if millis == 1000:
        whole, millis = whole + 1, 0
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{millis:03d}Z"


def queryForm():
    """The query element carrying the search form (section 4.1, form discovery)."""
    query = domish.Element((NS_MAM, "query"))
    form = query.addElement((NS_DATA, "x"))
    form["type"] = "form"
    formType = form.addElement("field")
    formType["var"], formType["type"] = "FORM_TYPE", "hidden"
    formType.addElement("value", content=NS_MAM)
    for var, fieldType in _FORM_FIELDS:
        field = form.addElement("field")
        field["var"], field["type"] = var, fieldType
    # Section 4.1.3: ids is open to any value (XEP-0122), never listed.
    validate = field.addElement((NS_XDATA_VALIDATE, "validate"))
    validate["datatype"] = "xs:string"
    validate.addElement("open")
    return query


def readForm(query):
    """The store's filters from the query's data form; bad-request for bad values."""
    form = firstChild(query, NS_DATA, "x")
    filters = {}
    if form is None:
        return filters
    for field in form.elements(NS_DATA, "field"):
        var = field.getAttribute("var")
        values = [str(v).strip() for v in field.elements(NS_DATA, "value")]
        if var == "FORM_TYPE":
            if values != [NS_MAM]:
                raise StanzaError("bad-request", text=f"FORM_TYPE must be {NS_MAM}")
            continue
        if var == "ids":
            filters["ids"] = values
            continue
        if var not in ("with", "start", "end", "before-id", "after-id"):
            # Section 4.1.5: a field the server does not recognise.
            raise StanzaError("feature-not-implemented", text=f"unknown field {var}")
        if len(values) != 1 or not values[0]:
            raise StanzaError("bad-request", text=f"{var} needs one value")
        filters.update(_filter(var, values[0]))
    return filters


def _filter(var, value):
    if var == "with":
        jid = parseJID(value)
        if jid is None:
            raise StanzaError("bad-request", text="with is not a JID")
        return {"with_": jid.full()}
    if var in ("start", "end"):
        try:
            return {var: parseStamp(value)}
        except ValueError:
            raise StanzaError("bad-request", text=f"{var} is not a XEP-0082 DateTime") from None
    return {"beforeId" if var == "before-id" else "afterId": value}


def readRSM(query, maxPage):
    """
    The store's paging arguments from the query's XEP-0059 C{<set/>}, the
    page never larger than C{maxPage} (section 4.3: the server may limit
    it); paging by index is not offered.
    """
    rsm = firstChild(query, NS_RSM, "set")
    paging = {"max": maxPage}
    if rsm is None:
        return paging
    for child in rsm.elements():
        value = str(child).strip()
        if child.name == "max":
            if not value.isdigit():
                raise StanzaError("bad-request", text="max must be a whole number")
            paging["max"] = min(int(value), maxPage)
        elif child.name in ("after", "before"):
            if child.name == "after" and not value:
                raise StanzaError("bad-request", text="after needs an id")
            paging[child.name] = value
        elif child.name == "index":
            raise StanzaError("feature-not-implemented", text="paging by index")
    if "after" in paging and "before" in paging:
        raise StanzaError("bad-request", text="after and before together")
    return paging


@defer.inlineCallbacks
def runQuery(archive, owner, query, maxPage):
    """
    Run the C{<query/>} element C{query} on C{owner}'s archive in the
    L{jabberd.storage.interfaces.IArchiveStore} C{archive}.

    @return: a Deferred of the L{ArchivePage}; it fails with a
        L{StanzaError} for a bad query or an unknown archive id.
    """
    filters = readForm(query)
    paging = readRSM(query, maxPage)
    flip = firstChild(query, NS_MAM, "flip-page") is not None
    if len(filters.get("ids", ())) > maxPage:
        raise StanzaError("policy-violation", text=f"at most {maxPage} ids")
    for archiveId in filters.get("ids", ()):
        if (yield archive.get(owner, archiveId)) is None:
            raise StanzaError("item-not-found", text=f"no message {archiveId} in the archive")
    try:
        page = yield archive.query(owner, flip=flip, **filters, **paging)
    except UnknownArchiveId as e:
        raise StanzaError("item-not-found", text=f"no message {e.args[0]} in the archive")
    return page


def resultMessage(to, archiveJid, queryId, item):
    """
    One result (section 4.2): a message from the archive's JID to the
    requester carrying the archived message C{item}, forwarded with the
    time it was archived.
    """
    message = domish.Element((None, "message"))
    message["to"], message["from"] = to, archiveJid
    message["id"] = randomId()
    result = message.addElement((NS_MAM, "result"))
    if queryId is not None:
        result["queryid"] = queryId
    result["id"] = item.id
    forwarded = result.addElement((NS_FORWARD, "forwarded"))
    forwarded.addElement((NS_DELAY, "delay"))["stamp"] = formatStamp(item.stamp)
    try:
        forwarded.addChild(parseElement(item.xml))
    except ValueError:
        log.error("unreadable archived message {id} of {owner}", id=item.id, owner=archiveJid)
    return message


def fin(page, queryId):
    """The C{<fin/>} closing a query (section 4.3), with the page's XEP-0059 C{<set/>}."""
    element = domish.Element((NS_MAM, "fin"))
    if queryId is not None:
        element["queryid"] = queryId
    if page.complete:
        element["complete"] = "true"
    rsm = element.addElement((NS_RSM, "set"))
    if page.items:
        first = rsm.addElement("first", content=page.first)
        if page.index is not None:
            first["index"] = str(page.index)
        rsm.addElement("last", content=page.last)
    rsm.addElement("count", content=str(page.count))
    return element
