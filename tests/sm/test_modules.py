"""Tests for L{jabberd.sm.modules}: which handlers the session manager gets, in which order."""

import jabberd
from jabberd.config import parse
from jabberd.sm.delegation import DelegationHandler
from jabberd.sm.modules import buildSessionManager, handlerFactories
from jabberd.sm.offline import OfflineHandler
from jabberd.sm.rosterpins import RosterPins
from jabberd.sm.version import VersionHandler
from jabberd.storage.memory import MemoryStorage


def build(text=""):
    return buildSessionManager(parse(text), MemoryStorage(), router=None)


def test_handlerOrder():
    """Delegation comes first, message before presence, offline after both, roster pins last."""
    names = [handler.handlerName for handler in build().handlers]
    assert names[0] == "delegation" and names[-2:] == ["offline", "rosterpins"]
    assert names.index("message") < names.index("presence") < names.index("offline")
    assert None not in names and len(set(names)) == len(names)


def test_buildAttachesEveryHandler():
    """The built manager has one handler per factory, in order, each attached to it."""
    config = parse("[server]\ndomains = example.org\n")
    sm = buildSessionManager(config, MemoryStorage(), router=None)
    assert sm.domains == ["example.org"] and sm.config is config
    assert len(sm.handlers) == len(handlerFactories(config))
    assert isinstance(sm.handlers[0], DelegationHandler)
    assert isinstance(sm.handlers[-2], OfflineHandler)
    assert isinstance(sm.handlers[-1], RosterPins)
    assert all(handler.host is sm for handler in sm.handlers)


def test_hookStages():
    """Delegation's hooks run before all others; the roster pins' sessionEnded runs last."""
    sm = build()
    assert sm.hooks("onInbound")[0].__self__ is sm.handler("delegation")
    assert sm.hooks("sessionEnded")[-1].__self__ is sm.handler("rosterpins")
    assert sm.hooks("onUndeliverable")[-1].__self__ is sm.handler("offline")


def test_versionIsThisSoftware():
    """The version module reports jabberd and its release."""
    sm = build()
    [version] = [h for h in sm.handlers if isinstance(h, VersionHandler)]
    assert (version.software, version.version) == ("jabberd", jabberd.__version__)
