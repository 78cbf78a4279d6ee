# -*- test-case-name: tests.pubsub.test_config -*-
"""
Node configuration (XEP-0060 section 8.2, the C{pubsub#node_config} form of
section 16.4.3), publish-options (section 7.1.5, the
C{pubsub#publish-options} form) and the bounds a service keeps.

A form is read into {field: [values]}; L{applyForm} turns submitted values
into a new L{NodeConfig} (refusing what the service does not support with
C{not-acceptable}), and L{preconditionsMet} compares publish-options with a
node's configuration after both are normalised the same way, so that
C{"1"} equals C{"true"} and C{max_items = max} equals the service maximum.
"""

from dataclasses import dataclass

from twisted.words.xish import domish

from jabberd.error import StanzaError
from jabberd.ns import NS_DATA, NS_PUBSUB_NODE_CONFIG
from jabberd.pubsub.errors import pubsubError
from jabberd.storage.records import MAX, NodeConfig

__all__ = ["Limits", "ACCESS_MODELS", "SEND_LAST", "configForm", "readForm",
           "applyForm", "preconditionsMet", "defaultConfig", "ROSTER_GROUPS", "itemLimit"]

#: The access models implemented (section 4.5; XEP-0163 section 5 requires these).
ACCESS_MODELS = ("open", "presence", "roster", "whitelist")
SEND_LAST = ("never", "on_sub", "on_sub_and_presence")
PUBLISH_MODELS = ("publishers",)
ROSTER_GROUPS = "pubsub#roster_groups_allowed"

_BOOLEANS = {"1": True, "true": True, "0": False, "false": False}


@dataclass
class Limits:
    """
    What one service may hold (C{[pep]} in C{jabberd.ini}).

    @ivar maxItemsPerNode: the most items a node keeps; C{max_items = max}
        means this many.
    @ivar maxNodes: the most nodes a service holds; creating one more is
        refused (C{not-allowed} + C{max-nodes-exceeded}).
    @ivar maxItemSize: the most bytes of one item's serialised payload
        (C{not-acceptable} + C{payload-too-big}, section 7.1.3.4).
    """

    maxItemsPerNode: int = 1000
    maxNodes: int = 200
    maxItemSize: int = 131072


# field var -> (NodeConfig attribute, form field type, allowed values or None)
_FIELDS = {
    "pubsub#title": ("title", "text-single", None),
    "pubsub#access_model": ("access_model", "list-single", ACCESS_MODELS),
    "pubsub#persist_items": ("persist_items", "boolean", None),
    "pubsub#max_items": ("max_items", "text-single", None),
    "pubsub#send_last_published_item": ("send_last_published_item", "list-single", SEND_LAST),
    "pubsub#notify_retract": ("notify_retract", "boolean", None),
    "pubsub#deliver_payloads": ("deliver_payloads", "boolean", None),
    "pubsub#publish_model": ("publish_model", "list-single", PUBLISH_MODELS),
}


def defaultConfig():
    """The configuration of a node created without one (XEP-0163 section 5 defaults)."""
    return NodeConfig()


def _text(value):
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def configForm(config, formType="form"):
    """The C{pubsub#node_config} data form (XEP-0004) describing C{config}."""
    form = domish.Element((NS_DATA, "x"))
    form["type"] = formType
    hidden = form.addElement("field")
    hidden["var"], hidden["type"] = "FORM_TYPE", "hidden"
    hidden.addElement("value", content=NS_PUBSUB_NODE_CONFIG)
    for var, (attribute, fieldType, options) in _FIELDS.items():
        field = form.addElement("field")
        field["var"], field["type"] = var, fieldType
        field.addElement("value", content=_text(getattr(config, attribute)))
        for option in options or ():
            field.addElement("option").addElement("value", content=option)
    groups = form.addElement("field")
    groups["var"], groups["type"] = ROSTER_GROUPS, "list-multi"
    for group in config.extra.get(ROSTER_GROUPS, []):
        groups.addElement("value", content=group)
    return form


def readForm(form, formType):
    """
    The submitted fields of a data form of C{FORM_TYPE} C{formType}, as
    {var: [values]} without C{FORM_TYPE}; a form of another type or with
    none (XEP-0068 section 4: the field says what the form is), or not a
    submission, is C{bad-request} + C{invalid-options}.
    """
    if form is None or form.getAttribute("type", "submit") not in ("submit", "result"):
        raise pubsubError("bad-request", "invalid-options", text="a submitted form is expected")
    values = {}
    for field in form.elements(NS_DATA, "field"):
        var = field.getAttribute("var")
        if var:
            values[var] = [str(v).strip() for v in field.elements(NS_DATA, "value")]
    if values.pop("FORM_TYPE", None) != [formType]:
        raise pubsubError("bad-request", "invalid-options", text="FORM_TYPE must be " + formType)
    return values


def _single(var, values):
    if len(values) != 1:
        raise pubsubError("not-acceptable", "invalid-options", text=f"{var}: one value expected")
    return values[0]


def _parseValue(var, values, limits):
    """The normalised value of one known field, or a not-acceptable error."""
    attribute, fieldType, options = _FIELDS[var]
    value = _single(var, values) if values else ""
    if fieldType == "boolean":
        if value.lower() not in _BOOLEANS:
            raise pubsubError("not-acceptable", "invalid-options", text=f"{var}: a boolean")
        return _BOOLEANS[value.lower()]
    if attribute == "max_items":
        return _maxItems(value, limits)
    if options is not None and value not in options:
        if attribute == "access_model":
            raise pubsubError("not-acceptable", "unsupported-access-model")
        raise pubsubError("not-acceptable", "invalid-options", text=f"{var}: not supported")
    return value


def _maxItems(value, limits):
    """C{max} is the service maximum (section 16.4.3); a number from 1 to it."""
    if value.lower() == MAX:
        return limits.maxItemsPerNode
    try:
        number = int(value)
    except ValueError:
        number = 0
    if not 1 <= number <= limits.maxItemsPerNode:
        raise pubsubError("not-acceptable", "invalid-options",
                          text=f"pubsub#max_items: 1 to {limits.maxItemsPerNode} or max")
    return number


def applyForm(config, values, limits):
    """
    A copy of C{config} with the submitted C{values} (from L{readForm}).
    Unknown fields are kept in C{extra} (clients send fields of other
    versions of the form); known ones must be valid.
    """
    new = config.copy()
    for var, fieldValues in values.items():
        if var in _FIELDS:
            setattr(new, _FIELDS[var][0], _parseValue(var, fieldValues, limits))
        elif var == ROSTER_GROUPS:
            new.extra[var] = [v for v in fieldValues if v]
        else:
            new.extra[var] = fieldValues
    return new


def itemLimit(config, limits):
    """The most items a node of C{config} keeps: its C{max_items}, C{max} the service maximum."""
    return limits.maxItemsPerNode if config.max_items == MAX else int(config.max_items)


def _normalised(config, limits):
    values = {var: getattr(config, attribute) for var, (attribute, _t, _o) in _FIELDS.items()}
    values["pubsub#max_items"] = itemLimit(config, limits)
    return values


def preconditionsMet(config, values, limits):
    """
    Whether every publish-option in C{values} matches C{config} (section
    7.1.5: otherwise the publish fails with C{precondition-not-met}); an
    option the service does not know never matches.
    """
    current = _normalised(config, limits)
    for var, fieldValues in values.items():
        if var in _FIELDS:
            try:
                wanted = _parseValue(var, fieldValues, limits)
            except StanzaError:
                return False
            if wanted != current[var]:
                return False
        elif var == ROSTER_GROUPS:
            if sorted(v for v in fieldValues if v) != sorted(config.extra.get(var, [])):
                return False
        elif config.extra.get(var) != fieldValues:
            return False
    return True
