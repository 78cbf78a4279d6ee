"""Tests for L{jabberd.mam.ids}: stamping and stripping XEP-0359 stanza-ids."""

from jabberd.mam.ids import originId, stampStanzaId, stripStanzaIds
from jabberd.ns import NS_SID
from jabberd.stanza import parseElement


def ids(stanza):
    return [(e["by"], e["id"]) for e in stanza.elements(NS_SID, "stanza-id")]


def test_stripRemovesOnlyTheNamedArchives():
    """A stanza-id claiming a named archive goes; another entity's stays."""
    stanza = parseElement(
        f"<message xmlns='jabber:client'><stanza-id xmlns='{NS_SID}' by='room@c' id='forged'/>"
        f"<stanza-id xmlns='{NS_SID}' by='other@x' id='kept'/><body>b</body></message>")
    stripStanzaIds(stanza, "room@c")
    assert ids(stanza) == [("other@x", "kept")]


def test_stampAddsTheArchiveId():
    """Stamping adds one stanza-id naming the archive."""
    stanza = parseElement("<message xmlns='jabber:client'><body>b</body></message>")
    stampStanzaId(stanza, "room@c", "abc")
    assert ids(stanza) == [("room@c", "abc")]


def test_originId():
    """The origin-id is read; its absence is an empty string."""
    stanza = parseElement(f"<message xmlns='jabber:client'><origin-id xmlns='{NS_SID}' "
                          "id='o1'/></message>")
    assert originId(stanza) == "o1"
    assert originId(parseElement("<message xmlns='jabber:client'/>")) == ""
