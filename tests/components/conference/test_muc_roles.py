"""
Tests for components.conference.roles: the XEP-0045 section 5 permission
tables.
"""

from components.conference import roles
from components.conference.roles import (ADMIN, MEMBER, MODERATOR, NONE, OUTCAST,
                                         OWNER, PARTICIPANT, VISITOR)


def test_defaultRoles():
    """Owners and admins moderate, members participate, others depend on moderation."""
    assert roles.defaultRole(OWNER, False) == MODERATOR
    assert roles.defaultRole(ADMIN, True) == MODERATOR
    assert roles.defaultRole(MEMBER, True) == PARTICIPANT
    assert roles.defaultRole(NONE, False) == PARTICIPANT
    assert roles.defaultRole(NONE, True) == VISITOR
    assert roles.defaultRole(OUTCAST, False) == NONE


def test_onlyModeratorsChangeRoles():
    """A participant may not kick or silence anyone (forbidden)."""
    assert roles.checkRoleChange(NONE, PARTICIPANT, NONE, PARTICIPANT, NONE) == "forbidden"
    assert roles.checkRoleChange(NONE, MODERATOR, NONE, PARTICIPANT, VISITOR) is None


def test_moderatorRoleIsForAdmins():
    """Granting or revoking moderator needs an admin or owner affiliation."""
    assert roles.checkRoleChange(MEMBER, MODERATOR, NONE, PARTICIPANT, MODERATOR) == "forbidden"
    assert roles.checkRoleChange(ADMIN, MODERATOR, NONE, PARTICIPANT, MODERATOR) is None
    assert roles.checkRoleChange(MEMBER, MODERATOR, MEMBER, MODERATOR, PARTICIPANT) == "forbidden"


def test_adminsAndOwnersCannotBeKicked():
    """Kicking or silencing an admin or owner is not-allowed, even by an owner."""
    assert roles.checkRoleChange(OWNER, MODERATOR, ADMIN, MODERATOR, NONE) == "not-allowed"
    assert roles.checkRoleChange(OWNER, MODERATOR, OWNER, MODERATOR, VISITOR) == "not-allowed"


def test_affiliationChangesByAdmins():
    """Admins manage members and outcasts but neither touch nor create admins and owners."""
    assert roles.checkAffiliationChange(ADMIN, NONE, OUTCAST) is None
    assert roles.checkAffiliationChange(ADMIN, MEMBER, NONE) is None
    assert roles.checkAffiliationChange(ADMIN, NONE, ADMIN) == "forbidden"
    assert roles.checkAffiliationChange(ADMIN, OWNER, OUTCAST) == "not-allowed"
    assert roles.checkAffiliationChange(MEMBER, NONE, MEMBER) == "forbidden"
    assert roles.checkAffiliationChange(OWNER, ADMIN, OUTCAST) is None


def test_listPermissions():
    """Voice lists are for moderators, member and ban lists for admins, owner lists for owners."""
    assert roles.mayListRole(NONE, MODERATOR, PARTICIPANT)
    assert not roles.mayListRole(NONE, PARTICIPANT, PARTICIPANT)
    assert not roles.mayListRole(MEMBER, MODERATOR, MODERATOR)
    assert roles.mayListAffiliation(ADMIN, OUTCAST)
    assert not roles.mayListAffiliation(ADMIN, OWNER)
    assert roles.mayListAffiliation(OWNER, ADMIN)


def test_privateMessagePolicy():
    """The allowpm policy maps to the minimum role that may send."""
    assert roles.maySendPrivate("anyone", VISITOR)
    assert not roles.maySendPrivate("participants", VISITOR)
    assert roles.maySendPrivate("moderators", MODERATOR)
    assert not roles.maySendPrivate("none", MODERATOR)
