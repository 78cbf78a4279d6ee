"""Tests for L{jabberd.sm.vcardupdate}: the XEP-0153 photo hash the server adds to presence."""

import base64

from jabberd.ns import NS_VCARD_UPDATE
from jabberd.storage.memory import MemoryStorage
from tests.sm.helpers import presences, result
from tests.sm.profilehelpers import ALICE, IMAGE, IMAGE_HASH, ProfileHarness, photoHashIn

PHOTO = (f"<PHOTO><TYPE>image/png</TYPE><BINVAL>{base64.b64encode(IMAGE).decode()}"
         f"</BINVAL></PHOTO>")


def withStoredPhoto(storage=None):
    """A harness over a store where alice already had a vCard photo, alice and bob friends."""
    storage = storage if storage is not None else MemoryStorage()
    result(storage.vcards.set("alice", f"<vCard xmlns='vcard-temp'>{PHOTO}</vCard>"))
    h = ProfileHarness(storage=storage)
    h.friends()
    return h


def comeOnline(h, user="alice"):
    """C{user} binds and sends initial presence; the session."""
    session = h.login(user, available=False)
    h.send(session, "<presence/>")
    return session


class CountingStorage(MemoryStorage):
    """Memory storage counting vCard reads."""

    def __init__(self):
        MemoryStorage.__init__(self)
        self.vcardReads = []
        get = self.vcards.get
        self.vcards.get = lambda user: (self.vcardReads.append(user), get(user))[1]


def test_hashAddedToBroadcastPresence():
    """Available presence without x:update reaches contacts with the photo's SHA-1."""
    h = withStoredPhoto()
    bob = h.login("bob")
    comeOnline(h)
    [seen] = presences(h.take(bob), sender=ALICE + "/res")
    assert photoHashIn(seen) == IMAGE_HASH


def test_emptyPhotoWithoutAvatar():
    """An account without a photo gets an empty <photo/> (XEP-0153 section 4.1)."""
    h = ProfileHarness()
    h.friends()
    bob = h.login("bob")
    comeOnline(h)
    [seen] = presences(h.take(bob), sender=ALICE + "/res")
    assert photoHashIn(seen) == ""


def test_clientPhotoLeftAlone():
    """A <photo/> the client sent, empty or not, is not touched; an <x/> without one gets one."""
    h = withStoredPhoto()
    bob = h.login("bob")
    alice = h.login("alice")
    for sent, expected in ((f"<x xmlns='{NS_VCARD_UPDATE}'><photo/></x>", ""),
                           (f"<x xmlns='{NS_VCARD_UPDATE}'><photo>abc</photo></x>", "abc"),
                           (f"<x xmlns='{NS_VCARD_UPDATE}'/>", IMAGE_HASH)):
        h.send(alice, f"<presence><show>away</show>{sent}</presence>")
        [seen] = presences(h.take(bob), sender=alice.full)
        assert photoHashIn(seen) == expected
        assert len(list(seen.elements(NS_VCARD_UPDATE, "x"))) == 1


def test_directedPresenceStamped():
    """Directed presence (a MUC join) gets the hash too (XEP-0398 section 4)."""
    h = ProfileHarness()
    alice = h.login("alice")
    h.routed()
    h.send(alice, "<presence to='room@conference.example.org/alice'/>")
    [joined] = h.routed()
    assert photoHashIn(joined) == ""


def test_noStorageReadPerPresence():
    """The hash is read once per login of an account with a vCard, never per presence, and not at all without one."""
    storage = CountingStorage()
    h = withStoredPhoto(storage)
    alice = h.login("alice")
    for show in ("away", "dnd", "chat"):
        h.send(alice, f"<presence><show>{show}</show></presence>")
    assert storage.vcardReads == ["alice"]
    h.login("bob")
    assert storage.vcardReads == ["alice"]
    assert h.update.hashes == {"alice": IMAGE_HASH, "bob": ""}


def test_hashForgottenWithLastSession():
    """The cached hash goes with the account's last session."""
    h = ProfileHarness()
    desk, phone = h.login("alice", "desk"), h.login("alice", "phone")
    h.sm.unbindSession(desk)
    assert "alice" in h.update.hashes
    h.sm.unbindSession(phone)
    assert "alice" not in h.update.hashes


def test_avatarChangeRebroadcastsPresence():
    """A PEP avatar changes the hash and each available resource's presence goes out again with it."""
    h = ProfileHarness()
    h.friends()
    bob = h.login("bob")
    alice = h.login("alice")
    h.clear()
    h.publishAvatar(alice)
    [again] = presences(h.take(bob), sender=alice.full)
    assert photoHashIn(again) == IMAGE_HASH
    assert photoHashIn(alice.presence) == IMAGE_HASH  # probes are answered with it too


def test_clientVCardSetNotRebroadcast():
    """After a client's own vCard set the client sends presence itself (XEP-0153 section 3.2)."""
    h = ProfileHarness()
    h.friends()
    bob = h.login("bob")
    alice = h.login("alice")
    h.clear()
    h.setVCard(alice, PHOTO)
    assert presences(h.take(bob), sender=alice.full) == []
    h.send(alice, "<presence/>")
    [seen] = presences(h.take(bob), sender=alice.full)
    assert photoHashIn(seen) == IMAGE_HASH


def test_presenceBeforeTheReadGoesAgain():
    """A presence sent before the hash was read goes again with it once it is."""
    from tests.sm.helpers import SlowStorage
    storage = SlowStorage()
    h = withStoredPhoto(storage)
    bob = h.login("bob")
    storage.flush()
    reads = []
    get = storage.vcards.get
    storage.vcards.get = lambda user: storage._later(get(user)) if not reads.append(user) \
        else None
    alice = h.login("alice", available=False)
    h.send(alice, "<presence/>")
    storage.flush()
    seen = presences(h.take(bob), sender=alice.full)
    assert [photoHashIn(p) for p in seen] == [None, IMAGE_HASH]
    assert reads == ["alice"]


def test_readAfterTheAccountLeftIsNotKept():
    """A hash read that ends after the account's last session ended is not kept."""
    from tests.sm.helpers import SlowStorage
    storage = SlowStorage()
    h = withStoredPhoto(storage)
    get = storage.vcards.get
    storage.vcards.get = lambda user: storage._later(get(user))
    alice = h.login("alice", roster=False, available=False)
    h.sm.unbindSession(alice)
    storage.flush()
    assert h.update.hashes == {}
