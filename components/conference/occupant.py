# -*- test-case-name: tests.components.conference.test_muc_room -*-
"""
An occupant of a Multi-User Chat room (XEP-0045 section 4.1: "occupant",
"occupant JID", "real JID").

Plain state; the room decides roles and affiliations and the protocol
layer decides what to send.
"""

__all__ = ["Occupant"]


class Occupant:
    """
    One occupant: a real full JID present in a room under a nickname.

    @ivar nick: the room nickname (prepared as a JID resourcepart).
    @ivar jid: the occupant's real full JID, as a string.
    @ivar bare: the real bare JID.
    @ivar occupantJid: C{room@service/nick}.
    @ivar role: moderator, participant or visitor.
    @ivar affiliation: the affiliation of C{bare} with the room.
    @ivar legacy: joined with the groupchat 1.0 protocol (no MUC
        C{<x/>}), so the client may not understand MUC extensions.
    @ivar presence: the children of the occupant's last available
        presence (show, status, priority, extensions) that are broadcast
        on its behalf, without the MUC elements.
    """

    __slots__ = ("nick", "jid", "bare", "occupantJid", "role", "affiliation",
                 "legacy", "presence", "occupantId")

    def __init__(self, roomJid, nick, jid, bare, role, affiliation, legacy=False,
                 occupantId=None):
        self.nick = nick
        self.jid = jid
        self.bare = bare
        self.occupantJid = roomJid + "/" + nick
        self.role = role
        self.affiliation = affiliation
        self.legacy = legacy
        self.presence = []
        self.occupantId = occupantId

    def rename(self, roomJid, nick):
        """Take the nickname C{nick}."""
        self.nick = nick
        self.occupantJid = roomJid + "/" + nick

    def __repr__(self):
        return f"<Occupant {self.occupantJid} {self.jid} {self.affiliation}/{self.role}>"
