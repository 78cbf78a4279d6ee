"""
Tests for L{jabberd.dispatch}: marked methods, the per-class index and
inheritance.
"""

import pytest

from jabberd.dispatch import ELEMENTS, DuplicateHandler, handlerFor, handles, handlesKey, index


class Base:
    @handles("urn:a", "one")
    def onOne(self, element):
        return ("base", "one", element)

    @handles("urn:a", "two", "three")
    def onTwoOrThree(self, element):
        return ("base", "two or three", element)

    @handlesKey("type", "subscribe")
    def onSubscribe(self):
        return "subscribe"


class Derived(Base):
    @handles("urn:a", "two")
    def onTwo(self, element):
        return ("derived", "two", element)

    @handles("urn:b", "four")
    def onFour(self, element):
        return ("derived", "four", element)

    def onOne(self, element):
        return ("derived", "one", element)


class Dropping(Base):
    onTwoOrThree = None


def test_elementKeys():
    """Elements are indexed by (namespace, local name), one method possibly for several names."""
    assert set(index(Base)) == {("urn:a", "one"), ("urn:a", "two"), ("urn:a", "three")}
    assert index(Base)[("urn:a", "three")](Base(), "x") == ("base", "two or three", "x")


def test_otherTable():
    """A keyed table is separate from the elements table."""
    assert index(Base, "type") == {"subscribe": Base.onSubscribe}
    assert ("type", "subscribe") not in index(Base, ELEMENTS)


def test_subclassAddsAndOverrides():
    """A subclass keeps its bases' keys, adds its own, and its own marks replace the base's."""
    table = index(Derived)
    obj = Derived()
    assert table[("urn:b", "four")](obj, 1) == ("derived", "four", 1)
    assert table[("urn:a", "two")](obj, 2) == ("derived", "two", 2)
    assert table[("urn:a", "three")](obj, 3) == ("base", "two or three", 3)


def test_overrideByNameKeepsKey():
    """Overriding a marked method without marking it again still handles its key."""
    assert index(Derived)[("urn:a", "one")](Derived(), 0) == ("derived", "one", 0)


def test_baseIndexUnchanged():
    """Indexing a subclass leaves the base class's own index as it was."""
    index(Derived)
    assert index(Base)[("urn:a", "two")] is Base.onTwoOrThree
    assert ("urn:b", "four") not in index(Base)


def test_droppedKeys():
    """A subclass setting a marked method's name to None drops its keys."""
    assert set(index(Dropping)) == {("urn:a", "one")}


def test_cachedOnClass():
    """The index is built once per class and reused."""
    assert index(Derived) is index(Derived)


def test_duplicateKey():
    """Two methods of one class marked with the same key fail when the class is indexed."""

    class Twice:
        @handles("urn:a", "one")
        def first(self, element):
            pass

        @handles("urn:a", "one")
        def second(self, element):
            pass

    with pytest.raises(DuplicateHandler):
        index(Twice)


def test_unknownFallsToDefault():
    """An element nobody marked is not in the index, so the caller's default applies."""
    assert index(Derived).get(("urn:a", "unknown"), "default") == "default"
    assert handlerFor(Derived(), "unsubscribe", "type") is None


def test_handlerForBinds():
    """handlerFor returns the marked method bound to the object."""
    obj = Derived()
    assert handlerFor(obj, "subscribe", "type")() == "subscribe"
    assert handlerFor(obj, ("urn:b", "four"))(5) == ("derived", "four", 5)
