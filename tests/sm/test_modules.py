"""Tests for L{jabberd.sm.modules}: which handlers the session manager gets, in which order."""

import jabberd
from jabberd.config import parse
from jabberd.sm.delegation import DelegationHandler
from jabberd.sm.modules import buildSessionManager, moduleFactories
from jabberd.sm.offline import OfflineHandler
from jabberd.sm.rosterpins import RosterPins
from jabberd.sm.version import VersionHandler
from jabberd.storage.memory import MemoryStorage


def test_moduleOrder():
    """Delegation comes first, message before presence, offline after both."""
    names = [name for name, _ in moduleFactories(parse(""))]
    assert names[0] == "delegation" and names[-1] == "offline"
    assert names.index("message") < names.index("presence") < names.index("offline")
    assert len(set(names)) == len(names)


def test_buildAttachesEveryModule():
    """The built manager has one handler per module, in order, then the roster pins."""
    config = parse("[server]\ndomains = example.org\n")
    sm = buildSessionManager(config, MemoryStorage(), router=None)
    assert sm.domains == ["example.org"] and sm.config is config
    assert len(sm.handlers) == len(moduleFactories(config)) + 1
    assert isinstance(sm.handlers[0], DelegationHandler)
    assert isinstance(sm.handlers[-2], OfflineHandler)
    assert isinstance(sm.handlers[-1], RosterPins)
    assert all(handler.host is sm for handler in sm.handlers)


def test_versionIsThisSoftware():
    """The version module reports jabberd and its release."""
    sm = buildSessionManager(parse(""), MemoryStorage(), router=None)
    [version] = [h for h in sm.handlers if isinstance(h, VersionHandler)]
    assert (version.software, version.version) == ("jabberd", jabberd.__version__)
