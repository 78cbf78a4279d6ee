# -*- test-case-name: tests.components.conference.test_muc_roles -*-
"""
Roles, affiliations and the permission tables of Multi-User Chat
(XEP-0045 section 5: 5.1 roles, 5.2 affiliations, 5.1.3 and 5.2.2 who may
change what).

Pure functions over names; no XML and no room state.  A check returns
None when the action is allowed, or the RFC 6120 error condition the
service answers with (XEP-0045 uses C{forbidden} when the actor lacks the
privilege and C{not-allowed} when the target is protected by its
affiliation).
"""

__all__ = [
    "OWNER", "ADMIN", "MEMBER", "NONE", "OUTCAST",
    "MODERATOR", "PARTICIPANT", "VISITOR",
    "AFFILIATIONS", "ROLES", "affiliationRank", "roleRank", "defaultRole",
    "checkRoleChange", "checkAffiliationChange", "mayListRole",
    "mayListAffiliation", "maySendPrivate",
]

OWNER, ADMIN, MEMBER, NONE, OUTCAST = "owner", "admin", "member", "none", "outcast"
MODERATOR, PARTICIPANT, VISITOR = "moderator", "participant", "visitor"

# Ordered from most to least privileged (section 5.2).
AFFILIATIONS = (OWNER, ADMIN, MEMBER, NONE, OUTCAST)
ROLES = (MODERATOR, PARTICIPANT, VISITOR, NONE)

_AFFILIATION_RANK = {OWNER: 4, ADMIN: 3, MEMBER: 2, NONE: 1, OUTCAST: 0}
_ROLE_RANK = {MODERATOR: 3, PARTICIPANT: 2, VISITOR: 1, NONE: 0}

_PROTECTED = (OWNER, ADMIN)


def affiliationRank(affiliation):
    """Order affiliations: owner highest, outcast lowest."""
    return _AFFILIATION_RANK[affiliation]


def roleRank(role):
    """Order roles: moderator highest, none lowest."""
    return _ROLE_RANK[role]


def defaultRole(affiliation, moderated):
    """
    The role an entity gets on entering (section 5.1.2): owners and admins
    moderate, members participate, others participate unless the room is
    moderated; outcasts get no role at all.
    """
    if affiliation in _PROTECTED:
        return MODERATOR
    if affiliation == MEMBER:
        return PARTICIPANT
    if affiliation == OUTCAST:
        return NONE
    return VISITOR if moderated else PARTICIPANT


def checkRoleChange(actorAffiliation, actorRole, targetAffiliation, targetRole, newRole):
    """
    May an occupant change another occupant's role to C{newRole}?

    Only moderators change roles (section 5.1.3); granting or revoking the
    moderator role is for admins and owners (sections 9.6, 9.7); nobody
    kicks, silences or demotes an admin or owner (sections 8.2, 8.4).
    """
    if actorRole != MODERATOR:
        return "forbidden"
    if MODERATOR in (newRole, targetRole) and actorAffiliation not in _PROTECTED:
        return "forbidden"
    if targetAffiliation in _PROTECTED and roleRank(newRole) < roleRank(targetRole):
        return "not-allowed"
    return None


def checkAffiliationChange(actorAffiliation, targetAffiliation, newAffiliation):
    """
    May an entity change another's affiliation to C{newAffiliation}?

    Owners may change anything; admins manage members and outcasts only,
    and may neither touch nor create admins and owners (sections 5.2.2,
    9.1, 10.3-10.8).
    """
    if actorAffiliation == OWNER:
        return None
    if actorAffiliation != ADMIN:
        return "forbidden"
    if newAffiliation in _PROTECTED:
        return "forbidden"
    if targetAffiliation in _PROTECTED:
        return "not-allowed"
    return None


def mayListRole(actorAffiliation, actorRole, role):
    """
    Who may retrieve a role list (section 8.5 voice list: moderators;
    section 9.8 moderator list: admins and owners).
    """
    if role == MODERATOR:
        return actorAffiliation in _PROTECTED
    return actorRole == MODERATOR


def mayListAffiliation(actorAffiliation, affiliation):
    """
    Who may retrieve an affiliation list: admins the member and ban lists
    (sections 9.2, 9.5), owners every list (sections 10.5, 10.8).
    """
    if affiliation in _PROTECTED:
        return actorAffiliation == OWNER
    return actorAffiliation in _PROTECTED


def maySendPrivate(policy, role):
    """
    Whether an occupant with C{role} may send private messages under the
    room's C{muc#roomconfig_allowpm} policy (anyone, participants,
    moderators, none).
    """
    if policy == "anyone":
        return True
    if policy == "participants":
        return roleRank(role) >= roleRank(PARTICIPANT)
    if policy == "moderators":
        return role == MODERATOR
    return False
