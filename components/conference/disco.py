# -*- test-case-name: tests.components.conference.test_muc_disco -*-
"""
Service Discovery (XEP-0030) of the conference service and its rooms
(XEP-0045 section 6: 6.1-6.2 the service, 6.3 its public rooms, 6.4 a
room's identity, features and C{muc#roominfo} form (XEP-0128), 6.5 a
room's occupants).

The service's features are collected from the attached handlers
(C{discoFeatures}), so each protocol module advertises itself; a room's
features beyond its type are collected the same way from the handlers'
C{roomDiscoFeatures(room)} (the room archive of XEP-0313, occupant ids
of XEP-0421, self-ping of XEP-0410).
"""

from wokkel import data_form

from jabberd.disco import collectFeatures, collectIdentities
from jabberd.error import StanzaError
from jabberd.handler import IQHandler, iqGet
from jabberd.jidutil import parseJID
from jabberd.ns import NS_DISCO_INFO, NS_DISCO_ITEMS, NS_MUC
from components.conference import stanzas
from components.conference.roles import OWNER

__all__ = ["DiscoHandler", "roomFeatures", "NS_ROOMINFO", "visibleRoom"]

NS_ROOMINFO = "http://jabber.org/protocol/muc#roominfo"
RESERVED_NICK_NODE = "x-roomuser-item"


def roomFeatures(room):
    """The room type features of XEP-0045 feature registry (one of each pair)."""
    c = room.config
    return [
        NS_MUC,
        "muc_public" if c.public else "muc_hidden",
        "muc_persistent" if c.persistent else "muc_temporary",
        "muc_membersonly" if c.membersOnly else "muc_open",
        "muc_moderated" if c.moderated else "muc_unmoderated",
        "muc_nonanonymous" if c.nonAnonymous else "muc_semianonymous",
        "muc_passwordprotected" if c.passwordProtected else "muc_unsecured",
    ]


def visibleRoom(service, iq):
    """
    The room an iq asks about; a missing room, or a locked one asked by
    anyone but its owner, is C{item-not-found}.
    """
    address = stanzas.parseAddress(iq.getAttribute("to"))
    room = service.room(address[0]) if address is not None else None
    if room is not None and room.locked:
        sender = parseJID(iq.getAttribute("from") or "")
        if sender is None or room.affiliationOf(sender.userhost()) != OWNER:
            room = None
    if room is None:
        raise StanzaError("item-not-found", text="no such room")
    return room


class DiscoHandler(IQHandler):
    """disco#info and disco#items for the service and each room."""

    def __init__(self, service):
        self.service = service

    def discoIdentities(self, target, node):
        if not stanzas.isServiceTarget(target, node):
            return []
        return [("conference", "text", self.service.options.name)]

    def discoFeatures(self, target, node):
        return [NS_DISCO_INFO, NS_DISCO_ITEMS] if stanzas.isServiceTarget(target, node) else []

    @iqGet(NS_DISCO_INFO, override=True)
    def onInfo(self, iq):
        query = stanzas.queryPayload(iq, NS_DISCO_INFO)
        node = query.getAttribute("node") or ""
        if "@" in (iq.getAttribute("to") or ""):
            return self.roomInfo(visibleRoom(self.service, iq), node)
        if node:
            raise StanzaError("item-not-found")
        return self.serviceInfo(iq.getAttribute("to"))

    def serviceInfo(self, target):
        """Section 6.2: the identities and features of every handler."""
        result = stanzas.Element((NS_DISCO_INFO, "query"))
        host = self.service.host
        for identity in collectIdentities(host, target, ""):
            _identity(result, *identity)
        for feature in collectFeatures(host, target, ""):
            result.addElement("feature")["var"] = feature
        return result

    def roomInfo(self, room, node):
        """Section 6.4: identity, room type features and muc#roominfo."""
        result = stanzas.Element((NS_DISCO_INFO, "query"))
        if node == RESERVED_NICK_NODE:
            # "Discovering Reserved Room Nickname": no nicks are reserved here, so no identity.
            result["node"] = node
            return result
        if node:
            raise StanzaError("item-not-found")
        _identity(result, "conference", "text", room.name)
        features = roomFeatures(room) + [NS_DISCO_INFO, NS_DISCO_ITEMS]
        for feature in features + self.extraFeatures(room):
            result.addElement("feature")["var"] = feature
        result.addChild(roomInfoForm(room).toElement())
        return result

    def extraFeatures(self, room):
        """What the attached handlers add to C{room}'s features, in attachment order."""
        features = []
        for handler in self.service.host.handlers:
            extra = getattr(handler, "roomDiscoFeatures", None)
            if extra is not None:
                features.extend(f for f in extra(room) if f not in features)
        return features

    @iqGet(NS_DISCO_ITEMS, override=True)
    def onItems(self, iq):
        """Section 6.3 public rooms; 6.5 occupants where allowed."""
        result = stanzas.Element((NS_DISCO_ITEMS, "query"))
        if "@" not in (iq.getAttribute("to") or ""):
            for room in self.service.visibleRooms():
                _item(result, room.jid, room.name)
            return result
        room = visibleRoom(self.service, iq)
        if room.config.public or room.occupantByJid(iq.getAttribute("from")):
            for nick, occupant in sorted(room.occupants.items()):
                _item(result, occupant.occupantJid, nick)
        return result


def roomInfoForm(room):
    """The XEP-0128 extension of a room's disco#info (the muc#roominfo FORM_TYPE)."""
    c = room.config
    values = [
        ("muc#roominfo_description", "text-single", c.description),
        ("muc#roominfo_subject", "text-single", room.subject or ""),
        ("muc#roominfo_occupants", "text-single", str(len(room.occupants))),
        ("muc#roomconfig_changesubject", "boolean", c.changeSubject),
        ("muc#roomconfig_allowinvites", "boolean", c.allowInvites),
        ("muc#maxhistoryfetch", "text-single", str(c.maxHistory)),
    ]
    if c.language:
        values.append(("muc#roominfo_lang", "text-single", c.language))
    return data_form.Form("result", formNamespace=NS_ROOMINFO, fields=[
        data_form.Field(fieldType, var, value) for var, fieldType, value in values])


def _identity(query, category, kind, name):
    identity = query.addElement("identity")
    identity["category"], identity["type"] = category, kind
    if name:
        identity["name"] = name


def _item(query, jid, name):
    item = query.addElement("item")
    item["jid"] = jid
    if name:
        item["name"] = name
