# -*- test-case-name: tests.components.conference.test_muc_archive -*-
"""
Querying a room's archive (XEP-0313, "Querying a MUC archive"): an iq to
the bare room JID, answered with the shared query code of
L{jabberd.mam.query}; results come from the room JID and forward the
messages as the room reflected them, from C{room@service/nick}.

Who may query: whoever may enter the room at the time of the query
(XEP-0313: "A MUC archive MUST check that the user requesting the archive
has the right to enter it"): never an outcast; in a members-only room
only members, admins and owners; in a password-protected room only its
occupants and owners (the password is not part of a query).  Everyone
else gets C{forbidden}.  A room that does not archive answers
C{feature-not-implemented}, and advertises C{urn:xmpp:mam:2} in its
disco#info only while it archives.  Rooms keep no archiving preferences
(XEP-0313 section 5 is about a user's own archive).
"""

from twisted.internet import defer

from jabberd.error import StanzaError
from jabberd.handler import IQHandler, iqGet, iqSet
from jabberd.jidutil import parseJID
from jabberd.mam import query as mamquery
from jabberd.ns import NS_MAM, NS_MAM_EXTENDED, NS_SID
from components.conference import roles, stanzas
from components.conference.disco import visibleRoom
from components.conference.roles import MEMBER, OUTCAST, OWNER

__all__ = ["MAMHandler", "mayQuery"]


def mayQuery(room, sender):
    """
    The condition refusing the real JID C{sender} a query of C{room}'s
    archive, or None if it may.
    """
    jid = parseJID(sender or "")
    if jid is None:
        return "forbidden"
    affiliation = room.affiliationOf(jid.userhost())
    if affiliation == OUTCAST:
        return "forbidden"
    if room.config.membersOnly and roles.affiliationRank(affiliation) < roles.affiliationRank(
            MEMBER):
        return "forbidden"
    if (room.config.passwordProtected and affiliation != OWNER
            and room.occupantByJid(sender) is None):
        return "forbidden"
    return None


class MAMHandler(IQHandler):
    """Answers C{urn:xmpp:mam:2} queries to rooms."""

    def __init__(self, service):
        self.service = service

    @property
    def archive(self):
        """The service's L{components.conference.archive.RoomArchive}."""
        return self.service.archive

    def roomDiscoFeatures(self, room):
        """The archive's features in a room's disco#info, while the room archives."""
        return [NS_MAM, NS_MAM_EXTENDED, NS_SID] if room.config.archiving else []

    def archivingRoom(self, iq):
        """The room an iq queries, if it archives and the sender may query it."""
        if stanzas.isServiceTarget(iq.getAttribute("to")):
            raise StanzaError("service-unavailable", text="the service keeps no archive")
        room = visibleRoom(self.service, iq)
        if not room.config.archiving:
            raise StanzaError("feature-not-implemented", text="this room keeps no archive")
        condition = mayQuery(room, iq.getAttribute("from"))
        if condition:
            raise StanzaError(condition, text="you may not read this room's archive")
        return room

    @iqGet(NS_MAM)
    def onGet(self, iq):
        """The search form (XEP-0313 section 4.1, form discovery)."""
        self.archivingRoom(iq)
        payload = stanzas.firstChild(iq)
        if payload.name != "query":
            raise StanzaError("feature-not-implemented", text=f"rooms have no {payload.name}")
        return mamquery.queryForm()

    @iqSet(NS_MAM)
    def onSet(self, iq):
        """A query of the room's archive."""
        room = self.archivingRoom(iq)
        payload = stanzas.firstChild(iq)
        if payload.name != "query":
            raise StanzaError("feature-not-implemented", text=f"rooms have no {payload.name}")
        return self.query(iq, room, payload)

    @defer.inlineCallbacks
    def query(self, iq, room, query):
        """One page of the archive, once the messages reflected before are stored."""
        yield self.archive.committed()
        page = yield mamquery.runQuery(self.archive.store, room.jid, query,
                                       self.archive.maxPage)
        queryId = query.getAttribute("queryid")
        for item in page.items:
            self.service.send(mamquery.resultMessage(iq["from"], room.jid, queryId, item))
        return mamquery.fin(page, queryId)
