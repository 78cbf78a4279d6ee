# -*- test-case-name: tests.components.conference.test_muc_owner -*-
"""
Owner use cases through C{muc#owner} (XEP-0045 section 10): accepting an
instant room or configuring a reserved one (10.1), changing the
configuration (10.2) and announcing it (status 104, 170-173,
322), destroying a room (10.9), and the owner and admin lists that older
clients manage here rather than through C{muc#admin}.
"""

from wokkel import data_form

from jabberd.error import StanzaError
from jabberd.handler import IQHandler, iqGet, iqSet
from jabberd.jidutil import parseJID
from jabberd.ns import NS_DATA, NS_MUC_OWNER
from components.conference import admin, occupancy, stanzas
from components.conference.configform import NS_ROOMCONFIG, configForm, readForm
from components.conference.roles import ADMIN, NONE, OWNER
from components.conference.room import MUCError

__all__ = ["OwnerHandler"]


class OwnerHandler(IQHandler):
    """Answers C{muc#owner} gets (the form) and sets (form, destroy)."""

    def __init__(self, service):
        self.service = service

    def discoFeatures(self, target, node):
        return [NS_MUC_OWNER] if stanzas.isServiceTarget(target, node) else []

    def requireOwner(self, room, sender):
        """Only owners configure or destroy (section 10: C{forbidden})."""
        jid = parseJID(sender or "")
        if jid is None or room.affiliationOf(jid.userhost()) != OWNER:
            raise StanzaError("forbidden", text="only owners may do that")

    @iqGet(NS_MUC_OWNER)
    def onOwnerGet(self, iq):
        """Section 10.2: the configuration form, or an owner/admin list."""
        room, sender = admin.roomOf(self.service, iq)
        query = stanzas.queryPayload(iq, NS_MUC_OWNER)
        if stanzas.firstChild(query, NS_MUC_OWNER, "item") is not None:
            return admin.listItems(room, sender, query, NS_MUC_OWNER)
        self.requireOwner(room, sender)
        result = stanzas.Element((NS_MUC_OWNER, "query"))
        result.addChild(configForm(room).toElement())
        return result

    @iqSet(NS_MUC_OWNER)
    def onOwnerSet(self, iq):
        """A submitted or cancelled form, a destroy, or list changes."""
        room, sender = admin.roomOf(self.service, iq)
        query = stanzas.queryPayload(iq, NS_MUC_OWNER)
        items = list(query.elements(NS_MUC_OWNER, "item"))
        if items:
            admin.changeItems(self.service, room, sender, items, NS_MUC_OWNER)
            return None
        self.requireOwner(room, sender)
        destroy = stanzas.firstChild(query, NS_MUC_OWNER, "destroy")
        if destroy is not None:
            self.destroy(room, destroy)
            return None
        element = stanzas.firstChild(query, NS_DATA, "x")
        if element is None:
            raise StanzaError("bad-request")
        form = data_form.Form.fromElement(element)
        if form.formType == "cancel":
            if room.locked:
                occupancy.destroyRoom(self.service, room)  # cancelling creation destroys (10.1)
            return None
        if form.formType != "submit" or stanzas.formType(element) not in (None, NS_ROOMCONFIG):
            raise StanzaError("bad-request")
        try:
            config, lists = readForm(room.config, form, self.service.options.maxHistory)
            self.applyLists(room, sender, lists)
        except MUCError as e:
            raise stanzas.stanzaError(e)
        self.reconfigure(room, config)
        return None

    def destroy(self, room, destroy):
        """Section 10.9: destroy, naming an alternate venue and a reason."""
        text = {}
        for name in ("reason", "password"):
            child = stanzas.firstChild(destroy, NS_MUC_OWNER, name)
            text[name] = str(child) if child is not None else None
        occupancy.destroyRoom(self.service, room, destroy.getAttribute("jid"),
                              text["reason"], text["password"])

    def applyLists(self, room, sender, lists):
        """
        The form's owner and admin lists are complete lists: who is
        listed gets the affiliation, who held it and is not listed loses
        it; a room is never left without an owner.
        """
        if OWNER in lists and not lists[OWNER]:
            raise MUCError("not-acceptable", "a room needs an owner")
        target = {}
        for affiliation in (OWNER, ADMIN):
            for address in lists.get(affiliation, ()):
                jid = parseJID(address)
                if jid is None:
                    raise MUCError("jid-malformed", address)
                target.setdefault(jid.userhost(), affiliation)
        for affiliation in lists:
            for bare, _reason in room.listAffiliation(affiliation):
                target.setdefault(bare, NONE)
        for bare, affiliation in sorted(target.items()):
            if room.affiliationOf(bare) != affiliation:
                admin.applyAffiliation(self.service, room, bare, affiliation, None, None)

    def reconfigure(self, room, config):
        """Switch C{room} to C{config}, unlock it, tell and store it."""
        wasLocked, wasPersistent = room.locked, room.config.persistent
        change = room.applyConfig(config)
        room.locked = False
        for occupant in change.removed:
            occupancy.announceRemoval(self.service, room, occupant, "322")
        for occupant in change.voiced:
            occupancy.announceRoleChange(self.service, room, occupant)
        if not wasLocked:
            notice = stanzas.roomMessage(room.jid, change.codes)
            stanzas.fanout(self.service.send, notice, [o.jid for o in room.occupants.values()])
        if config.persistent:
            self.service.persist(room)
        elif wasPersistent:
            self.service.forget(room)
        self.service.occupantLeft(room)
