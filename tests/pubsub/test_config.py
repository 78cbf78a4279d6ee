"""
Tests for L{jabberd.pubsub.config}: the node configuration form (XEP-0060
section 16.4.3) and publish-options preconditions (section 7.1.5).
"""

import pytest
from twisted.words.xish import domish

from jabberd.error import StanzaError
from jabberd.ns import NS_DATA, NS_PUBSUB_NODE_CONFIG, NS_PUBSUB_PUBLISH_OPTIONS
from jabberd.pubsub.config import (ROSTER_GROUPS, Limits, applyForm, configForm, defaultConfig,
                                   preconditionsMet, readForm)
from jabberd.storage.records import NodeConfig

LIMITS = Limits(maxItemsPerNode=50, maxNodes=5, maxItemSize=100)


def submitted(formType, **fields):
    form = domish.Element((NS_DATA, "x"))
    form["type"] = "submit"
    hidden = form.addElement("field")
    hidden["var"] = "FORM_TYPE"
    hidden.addElement("value", content=formType)
    for var, value in fields.items():
        field = form.addElement("field")
        field["var"] = "pubsub#" + var
        for v in value if isinstance(value, list) else [value]:
            field.addElement("value", content=v)
    return form


def refused(function, *args):
    with pytest.raises(StanzaError) as caught:
        function(*args)
    app = caught.value.appCondition
    return caught.value.condition, (app.name if app is not None else None)


def test_formDescribesConfig():
    """The form lists every field with the node's values, booleans as 1/0."""
    config = NodeConfig(access_model="open", max_items=7, persist_items=False)
    values = readForm(configForm(config, "submit"), NS_PUBSUB_NODE_CONFIG)
    assert values["pubsub#access_model"] == ["open"]
    assert values["pubsub#max_items"] == ["7"]
    assert values["pubsub#persist_items"] == ["0"]
    assert values[ROSTER_GROUPS] == []


def test_formRoundTrip():
    """Submitting the form of a configuration gives that configuration back."""
    config = NodeConfig(access_model="roster", max_items=3, notify_retract=False,
                        extra={ROSTER_GROUPS: ["Friends"]})
    values = readForm(configForm(config, "submit"), NS_PUBSUB_NODE_CONFIG)
    assert applyForm(defaultConfig(), values, LIMITS) == config


def test_otherFormTypeRefused():
    """A form of another FORM_TYPE is bad-request with invalid-options."""
    form = submitted("urn:other")
    assert refused(readForm, form, NS_PUBSUB_NODE_CONFIG) == ("bad-request", "invalid-options")


def test_unsupportedAccessModel():
    """An access model not implemented (authorize) is not-acceptable, unsupported-access-model."""
    values = readForm(submitted(NS_PUBSUB_NODE_CONFIG, access_model="authorize"),
                      NS_PUBSUB_NODE_CONFIG)
    assert refused(applyForm, NodeConfig(), values, LIMITS) \
        == ("not-acceptable", "unsupported-access-model")


@pytest.mark.parametrize("value", ["0", "51", "many"])
def test_maxItemsBounded(value):
    """max_items must be 1 to the service maximum, or max."""
    values = {"pubsub#max_items": [value]}
    assert refused(applyForm, NodeConfig(), values, LIMITS) == ("not-acceptable",
                                                                "invalid-options")


def test_maxMeansTheServiceMaximum():
    """max_items = max stores the service's bound (section 16.4.3)."""
    assert applyForm(NodeConfig(), {"pubsub#max_items": ["max"]}, LIMITS).max_items == 50


def test_badBooleanRefused():
    """A boolean field takes 1, 0, true or false only."""
    assert refused(applyForm, NodeConfig(), {"pubsub#persist_items": ["yes"]}, LIMITS) \
        == ("not-acceptable", "invalid-options")


def test_unknownFieldsKept():
    """Fields this service does not know are kept in extra, not refused."""
    config = applyForm(NodeConfig(), {"pubsub#notify_sub": ["1"]}, LIMITS)
    assert config.extra == {"pubsub#notify_sub": ["1"]}


def test_preconditionsCompareNormalised():
    """Equal values in other spellings (true/1, max/the bound) meet the preconditions."""
    config = NodeConfig(access_model="open", max_items=50, persist_items=True)
    values = {"pubsub#access_model": ["open"], "pubsub#persist_items": ["true"],
              "pubsub#max_items": ["max"]}
    assert preconditionsMet(config, values, LIMITS)


def test_preconditionsDiffer():
    """A differing value, an invalid one or an unknown option does not meet them."""
    config = NodeConfig(access_model="open")
    assert not preconditionsMet(config, {"pubsub#access_model": ["whitelist"]}, LIMITS)
    assert not preconditionsMet(config, {"pubsub#persist_items": ["maybe"]}, LIMITS)
    assert not preconditionsMet(config, {"pubsub#unknown": ["1"]}, LIMITS)


def test_publishOptionsFormRead():
    """A publish-options form is read with its own FORM_TYPE."""
    form = submitted(NS_PUBSUB_PUBLISH_OPTIONS, access_model="open")
    assert readForm(form, NS_PUBSUB_PUBLISH_OPTIONS) == {"pubsub#access_model": ["open"]}
