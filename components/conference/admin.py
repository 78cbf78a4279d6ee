# -*- test-case-name: tests.components.conference.test_muc_admin -*-
"""
Moderation and administration through C{muc#admin} (XEP-0045 section 8,
moderator use cases: kick 8.2, voice 8.3-8.5; section 9, admin use
cases: ban 9.1-9.2, membership 9.3-9.5, moderators 9.6-9.8; section 10.3-
10.8, owner and admin lists).

An iq set may carry several items; all are checked before any is applied,
so a refused item changes nothing (section 9.2 "all or nothing").  The
affected occupants and everyone else are told with the status codes of
the status code registry (307 kick, 301 ban, 321 membership lost).
"""

from jabberd.error import StanzaError
from jabberd.handler import IQHandler, iqGet, iqSet
from jabberd.jidutil import parseJID
from jabberd.ns import NS_MUC_ADMIN, NS_MUC_USER
from components.conference import occupancy, roles, stanzas
from components.conference.room import MUCError

__all__ = ["AdminHandler", "roomOf", "listItems", "changeItems", "applyAffiliation"]


class AdminHandler(IQHandler):
    """Answers C{muc#admin} gets (lists) and sets (changes)."""

    def __init__(self, service):
        self.service = service

    def discoFeatures(self, target, node):
        return [NS_MUC_ADMIN] if stanzas.isServiceTarget(target, node) else []

    @iqGet(NS_MUC_ADMIN)
    def onAdminGet(self, iq):
        room, sender = roomOf(self.service, iq)
        return listItems(room, sender, _query(iq, NS_MUC_ADMIN), NS_MUC_ADMIN)

    @iqSet(NS_MUC_ADMIN)
    def onAdminSet(self, iq):
        room, sender = roomOf(self.service, iq)
        items = list(_query(iq, NS_MUC_ADMIN).elements(NS_MUC_ADMIN, "item"))
        changeItems(self.service, room, sender, items, NS_MUC_ADMIN)


def roomOf(service, iq):
    """The existing room an iq is addressed to, and its sender."""
    address = stanzas.parseAddress(iq.getAttribute("to"))
    room = service.room(address[0]) if address is not None else None
    if room is None:
        raise StanzaError("item-not-found", text="no such room")
    return room, iq.getAttribute("from")


def _query(iq, uri):
    return stanzas.queryPayload(iq, uri)


def _bare(address):
    jid = parseJID(address or "")
    return jid.userhost() if jid is not None else None


def _actor(room, sender):
    """(affiliation, occupant or None) of the entity making a request."""
    return room.affiliationOf(_bare(sender)), room.occupantByJid(sender)


def listItems(room, sender, query, uri):
    """
    The list a C{<query/>} with one C{<item role=.../>} or C{<item
    affiliation=.../>} asks for (sections 8.5, 9.2, 9.5, 9.8, 10.5, 10.8).
    """
    item = stanzas.firstChild(query, uri, "item")
    if item is None:
        raise StanzaError("bad-request")
    affiliation, occupant = _actor(room, sender)
    result = stanzas.Element((uri, "query"))
    wanted = item.getAttribute("affiliation")
    if wanted:
        if wanted not in roles.AFFILIATIONS or wanted == roles.NONE:
            raise StanzaError("bad-request")
        if not roles.mayListAffiliation(affiliation, wanted):
            raise StanzaError("forbidden")
        for bare, reason in room.listAffiliation(wanted):
            entry = result.addElement("item")
            entry["affiliation"], entry["jid"] = wanted, bare
            if reason:
                entry.addElement("reason", content=reason)
        return result
    role = item.getAttribute("role")
    if role not in (roles.MODERATOR, roles.PARTICIPANT, roles.VISITOR):
        raise StanzaError("bad-request")
    if not roles.mayListRole(affiliation, occupant.role if occupant else roles.NONE, role):
        raise StanzaError("forbidden")
    for member in room.listRole(role):
        entry = result.addElement("item")
        entry["role"], entry["nick"], entry["affiliation"] = role, member.nick, member.affiliation
        if room.config.nonAnonymous or (occupant is not None and room.maySeeRealJid(occupant)):
            entry["jid"] = member.jid
    return result


def changeItems(service, room, sender, items, uri):
    """Check every item, then apply them all and tell those affected."""
    if not items:
        raise StanzaError("bad-request")
    affiliation, occupant = _actor(room, sender)
    try:
        steps = [_plan(service, room, affiliation, occupant, item, uri) for item in items]
    except MUCError as e:
        raise stanzas.stanzaError(e)
    for step in steps:
        step()


def _plan(service, room, actorAffiliation, actor, item, uri):
    role, affiliation = item.getAttribute("role"), item.getAttribute("affiliation")
    reason = stanzas.firstChild(item, uri, "reason")
    reason = str(reason) if reason is not None else None
    actorNick = actor.nick if actor is not None else None
    if bool(role) == bool(affiliation):
        raise MUCError("bad-request", "give either a role or an affiliation")
    if role:
        if actor is None:
            raise MUCError("forbidden", "only occupants change roles")
        target = room.checkRole(actor, item.getAttribute("nick") or "", role)
        return lambda: _applyRole(service, room, target, role, actorNick, reason)
    bare = _targetBare(room, item)
    room.checkAffiliation(actorAffiliation, bare, affiliation)
    return lambda: applyAffiliation(service, room, bare, affiliation, actorNick, reason)


def _targetBare(room, item):
    jid = item.getAttribute("jid")
    if jid:
        bare = _bare(jid)
        if bare is None:
            raise MUCError("jid-malformed")
        return bare
    occupant = room.occupants.get(item.getAttribute("nick") or "")
    if occupant is None:
        raise MUCError("item-not-found", "no such occupant")
    return occupant.bare


def _applyRole(service, room, target, role, actor, reason):
    oldRole = target.role
    room.setRole(target, role)
    if role == roles.NONE:
        occupancy.announceRemoval(service, room, target, "307", actor, reason)
    else:
        occupancy.announceRoleChange(service, room, target, reason=reason, oldRole=oldRole)


def applyAffiliation(service, room, bare, affiliation, actor, reason):
    """Give C{bare} C{affiliation}; store it and tell whom it concerns."""
    oldRoles = {o.nick: o.role for o in room.occupants.values() if o.bare == bare}
    change = room.setAffiliation(bare, affiliation, reason)
    service.persistAffiliation(room, bare, affiliation, reason)
    for occupant, code in change.removed:
        occupancy.announceRemoval(service, room, occupant, code, actor, reason)
    for occupant in change.occupants:
        occupancy.announceRoleChange(service, room, occupant, reason=reason,
                                     oldRole=oldRoles.get(occupant.nick))
    if not change.removed and not change.occupants and affiliation != change.old:
        service.send(_awayNotice(room, bare, affiliation, reason))


def _awayNotice(room, bare, affiliation, reason):
    """
    Status 101 (section 9.3): the affiliation of someone not in the room
    changed; they hear it by message at their bare JID.
    """
    item = stanzas.Element((NS_MUC_USER, "item"))
    item["affiliation"], item["jid"] = affiliation, bare
    if reason:
        item.addElement("reason", content=reason)
    message = stanzas.Element((None, "message"))
    message["from"], message["to"] = room.jid, bare
    message.addChild(stanzas.mucUserX(["101"], [item]))
    return message
