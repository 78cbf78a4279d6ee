# -*- test-case-name: tests.components.conference.test_muc_admin -*-
"""
Voice requests in moderated rooms (XEP-0045 section 7.13 "Requesting
Voice" and 8.6 "Approving Voice Requests"), with the
C{http://jabber.org/protocol/muc#request} data form.

A visitor submits the form; the room forwards it to every moderator as a
form to fill in; a moderator's submission with C{muc#request_allow}
true grants voice.
"""

from wokkel import data_form

from jabberd.error import errorReply
from components.conference import occupancy, stanzas
from components.conference.roles import MODERATOR, PARTICIPANT, VISITOR

__all__ = ["NS_MUC_REQUEST", "isVoiceForm", "handle", "requestForm"]

NS_MUC_REQUEST = "http://jabber.org/protocol/muc#request"


def isVoiceForm(element):
    """Whether a data form element is of the muc#request FORM_TYPE."""
    return stanzas.formType(element) == NS_MUC_REQUEST


def handle(service, room, occupant, stanza, element):
    """A voice request from a visitor, or a moderator's decision on one."""
    form = data_form.Form.fromElement(element)
    if occupant is None:
        service.send(errorReply(stanza, "not-acceptable"))
    elif "muc#request_allow" in form.fields:
        _decide(service, room, occupant, stanza, form)
    elif room.config.moderated and occupant.role == VISITOR:
        _forward(service, room, occupant)


def _decide(service, room, moderator, stanza, form):
    if moderator.role != MODERATOR:
        service.send(errorReply(stanza, "forbidden"))
        return
    allow = (form.fields["muc#request_allow"].value or "").strip().lower() in ("1", "true")
    target = room.occupants.get(form.get("muc#roomnick") or "")
    if allow and target is not None and target.role == VISITOR:
        room.setRole(target, PARTICIPANT)
        occupancy.announceRoleChange(service, room, target, actor=moderator.nick)


def _forward(service, room, occupant):
    form = requestForm(occupant)
    for moderator in room.moderators():
        message = stanzas.Element((None, "message"))
        message["from"] = room.jid
        message["to"] = moderator.jid
        message.addElement("body", content=f"{occupant.nick} asks for voice")
        message.addChild(form.toElement())
        service.send(message)


def requestForm(occupant):
    """The approval form a moderator receives (section 8.6)."""
    return data_form.Form("form", title="Voice request", formNamespace=NS_MUC_REQUEST, fields=[
        data_form.Field("list-single", "muc#role", PARTICIPANT, label="Requested role",
                        options=[data_form.Option(PARTICIPANT)]),
        data_form.Field("jid-single", "muc#jid", occupant.jid, label="User ID"),
        data_form.Field("text-single", "muc#roomnick", occupant.nick, label="Room nickname"),
        data_form.Field("boolean", "muc#request_allow", False,
                        label="Grant voice to this person?"),
    ])
