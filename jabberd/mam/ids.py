# -*- test-case-name: tests.mam.test_ids -*-
"""
Unique and stable stanza ids (XEP-0359) as an archive uses them: the
archive stamps C{<stanza-id by='archive JID' id='archive id'/>} on what it
archives, and removes any stanza-id claiming its C{by} that came from
anyone else (section 3: only the entity named in C{by} may add it).
"""

from jabberd.ns import NS_SID
from jabberd.stanza import firstChild

__all__ = ["stampStanzaId", "stripStanzaIds", "originId"]


def stampStanzaId(stanza, by, archiveId):
    """Add C{<stanza-id by=by id=archiveId/>} to C{stanza}."""
    sid = stanza.addElement((NS_SID, "stanza-id"))
    sid["by"], sid["id"] = by, archiveId
    return sid


def stripStanzaIds(stanza, *owners):
    """
    Remove the stanza-ids naming any of C{owners}' archives (XEP-0359
    section 3).  Most messages carry none: one scan of the children, no list.
    """
    children = stanza.children
    for child in children:
        if getattr(child, "name", None) == "stanza-id":
            break
    else:
        return
    stanza.children = [child for child in children
                       if getattr(child, "name", None) != "stanza-id" or child.uri != NS_SID
                       or child.getAttribute("by") not in owners]


def originId(stanza):
    """The sender's C{<origin-id/>} (XEP-0359 section 4), or ""."""
    origin = firstChild(stanza, NS_SID, "origin-id")
    return origin.getAttribute("id", "") if origin is not None else ""
