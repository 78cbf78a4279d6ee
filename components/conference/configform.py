# -*- test-case-name: tests.components.conference.test_muc_owner -*-
"""
The room configuration form (XEP-0045 section 10.2 and the
C{http://jabber.org/protocol/muc#roomconfig} FORM_TYPE of the XEP's form registry)
and its mapping onto L{RoomConfig}, with XEP-0004 forms from wokkel.

One table (L{FIELDS}) names every field once: its var, the attribute it
sets, its type, label and options; building the form and reading a
submission both walk it.
"""

from wokkel import data_form

from components.conference.room import MUCError
from components.conference.roomconfig import PM_POLICIES

__all__ = ["NS_ROOMCONFIG", "FIELDS", "configForm", "readForm"]

NS_ROOMCONFIG = "http://jabber.org/protocol/muc#roomconfig"

_MAXUSERS = ("10", "20", "30", "50", "100", "none")

# (var, RoomConfig attribute, field type, label, options)
FIELDS = (
    ("muc#roomconfig_roomname", "name", "text-single", "Natural-Language Room Name", None),
    ("muc#roomconfig_roomdesc", "description", "text-single", "Short Description of Room", None),
    ("muc#roomconfig_lang", "language", "text-single",
     "Natural Language for Room Discussions", None),
    ("muc#roomconfig_persistentroom", "persistent", "boolean", "Make Room Persistent?", None),
    ("muc#roomconfig_publicroom", "public", "boolean", "Make Room Publicly Searchable?", None),
    ("muc#roomconfig_membersonly", "membersOnly", "boolean", "Make Room Members-Only?", None),
    ("muc#roomconfig_moderatedroom", "moderated", "boolean", "Make Room Moderated?", None),
    ("muc#roomconfig_passwordprotectedroom", "passwordProtected", "boolean",
     "Password Required to Enter?", None),
    ("muc#roomconfig_roomsecret", "password", "text-private", "Password", None),
    ("muc#roomconfig_maxusers", "maxUsers", "list-single", "Maximum Number of Occupants",
     _MAXUSERS),
    ("muc#roomconfig_whois", "whois", "list-single", "Who May Discover Real JIDs?",
     ("moderators", "anyone")),
    ("muc#maxhistoryfetch", "maxHistory", "text-single",
     "Maximum Number of History Messages Returned by Room", None),
    ("muc#roomconfig_changesubject", "changeSubject", "boolean",
     "Allow Occupants to Change Subject?", None),
    ("muc#roomconfig_allowinvites", "allowInvites", "boolean",
     "Allow Occupants to Invite Others?", None),
    ("muc#roomconfig_allowpm", "allowPM", "list-single", "Roles that May Send Private Messages",
     PM_POLICIES),
    ("muc#roomconfig_enablelogging", "logging", "boolean", "Enable Public Logging?", None),
    # XEP-0313 (MUC archives); the field name Prosody and ejabberd use.
    ("muc#roomconfig_enablearchiving", "archiving", "boolean", "Enable Message Archiving?",
     None),
)

AFFILIATION_FIELDS = (
    ("muc#roomconfig_roomowners", "owner", "Full List of Room Owners"),
    ("muc#roomconfig_roomadmins", "admin", "Full List of Room Admins"),
)


def configForm(room):
    """The form an owner gets (section 10.2), filled with C{room}'s values."""
    form = data_form.Form("form", title=f"Configuration for {room.jid}",
                          formNamespace=NS_ROOMCONFIG)
    for var, attr, fieldType, label, options in FIELDS:
        value = _show(attr, getattr(room.config, attr))
        form.addField(data_form.Field(fieldType, var, value, label=label,
                                      options=[data_form.Option(o) for o in options or ()]))
    for var, affiliation, label in AFFILIATION_FIELDS:
        jids = [bare for bare, _reason in room.listAffiliation(affiliation)]
        form.addField(data_form.Field("jid-multi", var, values=jids, label=label))
    return form


def _show(attr, value):
    if attr == "maxUsers":
        return str(value) if value else "none"
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def readForm(config, form, historyLimit):
    """
    Apply a submitted form to a copy of C{config}; return (new config,
    {affiliation: [bare JIDs]} for the owner/admin lists submitted).
    A malformed value is a C{not-acceptable} L{MUCError}.
    """
    new = config.copy()
    byVar = {var: (attr, fieldType, options) for var, attr, fieldType, _l, options in FIELDS}
    for var, field in form.fields.items():
        if var in byVar:
            attr, fieldType, options = byVar[var]
            setattr(new, attr, _parse(var, attr, fieldType, options, field, historyLimit))
    if ("muc#roomconfig_roomsecret" in form.fields and new.password
            and "muc#roomconfig_passwordprotectedroom" not in form.fields):
        # COMPAT: clients that only send a secret mean to protect the room.
        new.passwordProtected = True
    lists = {affiliation: [str(v).strip() for v in form.fields[var].values if str(v).strip()]
             for var, affiliation, _label in AFFILIATION_FIELDS if var in form.fields}
    return new, lists


def _parse(var, attr, fieldType, options, field, historyLimit):
    raw = field.value
    text = "" if raw is None else str(raw).strip()
    if fieldType == "boolean":
        if isinstance(raw, bool):
            return raw
        if text.lower() not in ("0", "1", "false", "true"):
            raise MUCError("not-acceptable", f"{var}: expected a boolean")
        return text.lower() in ("1", "true")
    if attr == "maxUsers":
        return 0 if text in ("none", "") else _number(var, text)
    if attr == "maxHistory":
        return min(_number(var, text), historyLimit)
    if options and text not in options:
        raise MUCError("not-acceptable", f"{var}: not one of the options")
    return text


def _number(var, text):
    try:
        value = int(text)
    except ValueError:
        raise MUCError("not-acceptable", f"{var}: expected a number")
    if value < 0:
        raise MUCError("not-acceptable", f"{var}: must not be negative")
    return value
