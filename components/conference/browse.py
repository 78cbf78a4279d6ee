# -*- test-case-name: tests.components.conference.test_muc_legacy -*-
"""
COMPAT: Jabber Browsing (XEP-0011, C{jabber:iq:browse}) for jabberd
1.4-era clients: browsing the service lists its public rooms, browsing a
room lists its participants, and browsing a room that does not exist
answers C{item-not-found} (404), which old clients use to decide whether
joining will create the room.
"""

from jabberd.handler import IQHandler, iqGet
from jabberd.ns import NS_BROWSE, NS_CONFERENCE, NS_DISCO_INFO, NS_DISCO_ITEMS, NS_MUC
from components.conference import stanzas
from components.conference.disco import visibleRoom

__all__ = ["BrowseHandler"]


class BrowseHandler(IQHandler):
    """Answers C{jabber:iq:browse} gets for the service and its rooms."""

    def __init__(self, service):
        self.service = service

    def discoFeatures(self, target, node):
        return [NS_BROWSE] if stanzas.isServiceTarget(target, node) else []

    @iqGet(NS_BROWSE)
    def onBrowse(self, iq):
        if "@" in (iq.getAttribute("to") or ""):
            return self.browseRoom(iq)
        return self.browseService()

    def browseService(self):
        """The service as a conference item, its public rooms as children."""
        service = self.service
        result = _item("conference", "public", service.domain, service.options.name)
        for ns in (NS_MUC, NS_CONFERENCE, NS_BROWSE, NS_DISCO_INFO, NS_DISCO_ITEMS):
            result.addElement("ns", content=ns)
        for room in service.visibleRooms():
            result.addChild(_roomItem(room))
        return result

    def browseRoom(self, iq):
        """
        A room and, if it is public or the requester is in it, its
        participants as C{user} items; 404 if there is no such room.
        """
        room = visibleRoom(self.service, iq)
        result = _roomItem(room, count=False)
        if room.config.public or room.occupantByJid(iq.getAttribute("from")):
            for nick, occupant in sorted(room.occupants.items()):
                result.addChild(_item("user", "client", occupant.occupantJid, nick))
        return result


def _roomItem(room, count=True):
    kind = "public" if room.config.public else "private"
    name = f"{room.name} ({len(room.occupants)})" if count else room.name
    return _item("conference", kind, room.jid, name)


def _item(category, kind, jid, name):
    item = stanzas.Element((NS_BROWSE, "item"))
    item["category"], item["type"], item["jid"] = category, kind, jid
    if name:
        item["name"] = name
    return item
