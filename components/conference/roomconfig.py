# -*- test-case-name: tests.components.conference.test_muc_owner -*-
"""
A room's configuration (XEP-0045 section 10.2, the C{muc#roomconfig}
FORM_TYPE of the XEP's form registry), as plain values.

The owner form of L{components.conference.owner} maps form fields onto
these attributes; the store keeps them as JSON through L{toDict} and
L{fromDict}.
"""

from dataclasses import asdict, dataclass, fields

__all__ = ["RoomConfig", "WHOIS_MODERATORS", "WHOIS_ANYONE", "PM_POLICIES"]

WHOIS_MODERATORS = "moderators"  # semi-anonymous room (section 4.2)
WHOIS_ANYONE = "anyone"  # non-anonymous room
PM_POLICIES = ("anyone", "participants", "moderators", "none")


@dataclass
class RoomConfig:
    """
    @ivar maxUsers: the most occupants at once; 0 means no limit.
    @ivar whois: who may see occupants' real JIDs: C{moderators} or
        C{anyone}.
    @ivar maxHistory: the most history messages sent on entering
        (C{muc#maxhistoryfetch}).
    @ivar changeSubject: whether participants (not only moderators) may
        change the subject.
    @ivar allowInvites: whether occupants other than admins may invite
        in a members-only room.
    @ivar allowPM: who may send private messages (L{PM_POLICIES}).
    @ivar logging: whether the room is announced as logged (status 170).
    @ivar archiving: whether the room keeps its groupchat messages in its
        message archive (XEP-0313, C{muc#roomconfig_enablearchiving}), for
        queries to the room and its join history.
    """

    name: str = ""
    description: str = ""
    language: str = ""
    persistent: bool = False
    public: bool = True
    membersOnly: bool = False
    moderated: bool = False
    passwordProtected: bool = False
    password: str = ""
    maxUsers: int = 0
    whois: str = WHOIS_MODERATORS
    maxHistory: int = 20
    changeSubject: bool = False
    allowInvites: bool = False
    allowPM: str = "anyone"
    logging: bool = False
    archiving: bool = True

    @property
    def nonAnonymous(self):
        """Whether every occupant may see every real JID."""
        return self.whois == WHOIS_ANYONE

    def copy(self):
        """An independent copy, for applying a form atomically."""
        return RoomConfig(**asdict(self))

    def toDict(self):
        """The configuration as a JSON-able dictionary."""
        return asdict(self)

    @classmethod
    def fromDict(cls, values):
        """
        Rebuild from L{toDict} output; unknown keys (from a newer version)
        are ignored and missing ones take their defaults.
        """
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})
