# -*- test-case-name: tests.components.conference.test_muc_room -*-
"""
A Multi-User Chat room: its state and its rules (XEP-0045 sections 5, 7,
8, 9 and 10), knowing no XML.

The protocol modules turn stanzas into calls on a L{Room} and its answers
(or L{MUCError}s carrying an RFC 6120 condition) back into stanzas, in the
manner of Idavoll's backend: the rules can be read and tested without a
stream in sight.  Changes that affect several occupants return small
records (L{AffiliationChange}, L{ConfigChange}) saying who must be told
what.
"""

from components.conference import roles
from components.conference.history import History
from components.conference.occupant import Occupant
from components.conference.occupantid import newSecret, occupantId
from components.conference.roles import (ADMIN, MEMBER, MODERATOR, NONE,
                                         OUTCAST, OWNER, PARTICIPANT, VISITOR)
from components.conference.roomconfig import RoomConfig

__all__ = ["MUCError", "Room", "AffiliationChange", "ConfigChange"]

_PROTECTED = (OWNER, ADMIN)


class MUCError(Exception):
    """A request the room refuses; C{condition} is the RFC 6120 condition."""

    def __init__(self, condition, text=None):
        Exception.__init__(self, condition, text)
        self.condition = condition
        self.text = text


class AffiliationChange:
    """
    The outcome of one affiliation change.

    @ivar occupants: occupants of the affected bare JID still in the room.
    @ivar removed: (occupant, status code) of those the change removed:
        301 banned, 321 no longer a member of a members-only room.
    """

    def __init__(self, bare, old, new, reason):
        self.bare = bare
        self.old = old
        self.new = new
        self.reason = reason
        self.occupants = []
        self.removed = []


class ConfigChange:
    """
    The outcome of applying a new configuration (section 10.2).

    @ivar codes: status codes to announce to the occupants (104 always;
        170/171 logging, 172/173 anonymity).
    @ivar removed: occupants removed because the room became members-only
        (status 322).
    @ivar voiced: visitors who became participants because the room is
        no longer moderated.
    """

    def __init__(self, old, new):
        self.old = old
        self.new = new
        self.codes = ["104"]
        self.removed = []
        self.voiced = []


class Room:
    """
    @ivar jid: the room JID, C{room@service}.
    @ivar affiliations: bare JID -> affiliation other than C{none}.
    @ivar reasons: bare JID -> the reason given with its affiliation.
    @ivar occupants: nick -> L{Occupant}.
    @ivar byJid: real full JID -> L{Occupant}.
    @ivar locked: a newly created room nobody but its owner may enter
        until it is configured (section 10.1).
    @ivar subject: the subject, or None if it was never set.
    @ivar subjectFrom: the occupant JID (or room JID) that set it.
    @ivar serviceAdmins: bare JIDs that are owners of every room.
    @ivar secret: the key of the room's occupant ids (XEP-0421), kept
        with a persistent room.
    """

    def __init__(self, jid, config=None, historySize=50, serviceAdmins=(), secret=None):
        self.jid = jid
        self.node = jid.split("@", 1)[0]
        self.config = config or RoomConfig()
        self.affiliations = {}
        self.reasons = {}
        self.occupants = {}
        self.byJid = {}
        self.locked = False
        self.subject = None
        self.subjectFrom = jid
        self.history = History(historySize)
        self.serviceAdmins = frozenset(serviceAdmins)
        self.secret = secret or newSecret()

    def __repr__(self):
        return f"<Room {self.jid} occupants={len(self.occupants)}>"

    @property
    def name(self):
        """The natural-language name, or the room's localpart."""
        return self.config.name or self.node

    # affiliations

    def affiliationOf(self, bare):
        """The affiliation of the bare JID C{bare}."""
        if bare in self.serviceAdmins:
            return OWNER
        return self.affiliations.get(bare, NONE)

    def listAffiliation(self, affiliation):
        """(bare JID, reason) pairs holding C{affiliation}, sorted."""
        return sorted((bare, self.reasons.get(bare, ""))
                      for bare, a in self.affiliations.items() if a == affiliation)

    def owners(self):
        """The bare JIDs of the room's owners."""
        return [bare for bare, a in self.affiliations.items() if a == OWNER]

    def checkAffiliation(self, actorAffiliation, bare, affiliation):
        """
        Raise L{MUCError} unless an actor with C{actorAffiliation} may give
        C{bare} the C{affiliation}; the last owner stays an owner (section
        10.7: C{conflict}).
        """
        if affiliation not in roles.AFFILIATIONS:
            raise MUCError("bad-request", "unknown affiliation")
        current = self.affiliationOf(bare)
        condition = roles.checkAffiliationChange(actorAffiliation, current, affiliation)
        if condition:
            raise MUCError(condition)
        if current == OWNER and affiliation != OWNER and self.owners() == [bare]:
            raise MUCError("conflict", "a room needs an owner")

    def setAffiliation(self, bare, affiliation, reason=""):
        """Record C{affiliation} for C{bare} and adjust its occupants."""
        change = AffiliationChange(bare, self.affiliationOf(bare), affiliation, reason)
        if affiliation == NONE:
            self.affiliations.pop(bare, None)
            self.reasons.pop(bare, None)
        else:
            self.affiliations[bare] = affiliation
            self.reasons[bare] = reason or ""
        for occupant in [o for o in self.occupants.values() if o.bare == bare]:
            occupant.affiliation = affiliation
            code = self._removalCode(affiliation)
            if code:
                self.remove(occupant)
                change.removed.append((occupant, code))
            else:
                occupant.role = self._roleAfter(occupant.role, change.old, affiliation)
                change.occupants.append(occupant)
        return change

    def _removalCode(self, affiliation):
        if affiliation == OUTCAST:
            return "301"
        if self.config.membersOnly and affiliation == NONE:
            return "321"
        return None

    def _roleAfter(self, role, old, new):
        default = roles.defaultRole(new, self.config.moderated)
        if new in _PROTECTED or old in _PROTECTED:
            return default
        return role if roles.roleRank(role) >= roles.roleRank(default) else default

    # occupants

    def occupantByJid(self, jid):
        """The occupant whose real full JID is C{jid}, or None."""
        return self.byJid.get(jid)

    def join(self, jid, bare, nick, password=None, legacy=False):
        """
        Admit C{jid} under C{nick} (section 7.2) or raise L{MUCError}:
        banned C{forbidden}, locked C{item-not-found}, members-only
        C{registration-required}, wrong password C{not-authorized}, nick
        taken C{conflict}, full C{service-unavailable}.
        """
        affiliation = self.affiliationOf(bare)
        self._checkEntry(affiliation, password)
        holder = self.occupants.get(nick)
        if holder is not None and holder.jid != jid:
            raise MUCError("conflict", "that nickname is in use")
        limit = self.config.maxUsers
        if limit and len(self.occupants) >= limit and affiliation not in _PROTECTED:
            raise MUCError("service-unavailable", "the room is full")
        role = roles.defaultRole(affiliation, self.config.moderated)
        occupant = Occupant(self.jid, nick, jid, bare, role, affiliation, legacy,
                            occupantId(self.secret, bare))
        self.occupants[nick] = occupant
        self.byJid[jid] = occupant
        return occupant

    def _checkEntry(self, affiliation, password):
        if affiliation == OUTCAST:
            raise MUCError("forbidden", "you are banned from this room")
        if self.locked and affiliation != OWNER:
            raise MUCError("item-not-found", "the room is locked")
        isMember = roles.affiliationRank(affiliation) >= roles.affiliationRank(MEMBER)
        if self.config.membersOnly and not isMember:
            raise MUCError("registration-required", "the room is members-only")
        if (self.config.passwordProtected and affiliation != OWNER
                and password != self.config.password):
            raise MUCError("not-authorized", "a password is required")

    def remove(self, occupant):
        """Take C{occupant} out of the room (leaving, kicked, banned)."""
        if self.occupants.get(occupant.nick) is occupant:
            del self.occupants[occupant.nick]
        if self.byJid.get(occupant.jid) is occupant:
            del self.byJid[occupant.jid]
        occupant.role = NONE

    def removeAll(self):
        """Empty the room (destruction, shutdown); return who was in it."""
        gone = list(self.occupants.values())
        self.occupants.clear()
        self.byJid.clear()
        for occupant in gone:
            occupant.role = NONE
        return gone

    @property
    def empty(self):
        """Whether nobody is in the room."""
        return not self.occupants

    def changeNick(self, occupant, nick):
        """Rename C{occupant} (section 7.6) or raise C{conflict}."""
        holder = self.occupants.get(nick)
        if holder is not None and holder is not occupant:
            raise MUCError("conflict", "that nickname is in use")
        del self.occupants[occupant.nick]
        occupant.rename(self.jid, nick)
        self.occupants[nick] = occupant

    def maySeeRealJid(self, viewer):
        """Whether C{viewer} may see occupants' real JIDs (section 4.2)."""
        return self.config.nonAnonymous or viewer.role == MODERATOR

    # roles

    def checkRole(self, actor, nick, role):
        """
        Return the occupant C{nick} if C{actor} may give it C{role}
        (sections 8.2-8.5, 9.6, 9.7); raise L{MUCError} otherwise.
        """
        if role not in roles.ROLES:
            raise MUCError("bad-request", "unknown role")
        target = self.occupants.get(nick)
        if target is None:
            raise MUCError("item-not-found", "no such occupant")
        condition = roles.checkRoleChange(actor.affiliation, actor.role,
                                          target.affiliation, target.role, role)
        if condition:
            raise MUCError(condition)
        return target

    def setRole(self, occupant, role):
        """Give C{occupant} C{role}; C{none} removes it (a kick)."""
        if role == NONE:
            self.remove(occupant)
        else:
            occupant.role = role

    def listRole(self, role):
        """The occupants holding C{role}, by nick."""
        return [o for _n, o in sorted(self.occupants.items()) if o.role == role]

    def moderators(self):
        """The occupants that moderate."""
        return [o for o in self.occupants.values() if o.role == MODERATOR]

    # messages

    def maySpeak(self, occupant):
        """Whether C{occupant} may send to everyone (visitors may not)."""
        return roles.roleRank(occupant.role) >= roles.roleRank(PARTICIPANT)

    def mayChangeSubject(self, occupant):
        """Moderators may; participants too if the room allows it (8.1)."""
        if occupant.role == MODERATOR:
            return True
        return self.config.changeSubject and occupant.role == PARTICIPANT

    def setSubject(self, occupant, subject):
        """Record the subject and who set it."""
        self.subject = subject
        self.subjectFrom = occupant.occupantJid if occupant is not None else self.jid

    def maySendPrivate(self, occupant):
        """Whether C{occupant} may send private messages (allowpm)."""
        return roles.maySendPrivate(self.config.allowPM, occupant.role)

    def mayInvite(self, occupant):
        """
        Anyone in an open room may invite; in a members-only room only
        admins and owners, unless the room allows invitations (7.8).
        """
        if not self.config.membersOnly:
            return True
        return self.config.allowInvites or occupant.affiliation in _PROTECTED

    def grantsMembershipOnInvite(self, inviter, bare):
        """
        Whether inviting C{bare} to this members-only room makes it a
        member (section 7.8.2: the service adds the invitee to the
        member list when the inviter may do so).
        """
        return (self.config.membersOnly and self.affiliationOf(bare) == NONE
                and self.mayInvite(inviter))

    # configuration

    def applyConfig(self, config):
        """Switch to C{config}; return a L{ConfigChange} to announce."""
        old, self.config = self.config, config
        change = ConfigChange(old, config)
        if config.logging != old.logging:
            change.codes.append("170" if config.logging else "171")
        if config.whois != old.whois:
            change.codes.append("172" if config.nonAnonymous else "173")
        if config.membersOnly and not old.membersOnly:
            for occupant in list(self.occupants.values()):
                if roles.affiliationRank(occupant.affiliation) < roles.affiliationRank(MEMBER):
                    self.remove(occupant)
                    change.removed.append(occupant)
        if old.moderated and not config.moderated:
            for occupant in self.occupants.values():
                if occupant.role == VISITOR:
                    occupant.role = PARTICIPANT
                    change.voiced.append(occupant)
        return change
