"""
XML namespaces used across jabberd, in one place (RFC 6120, RFC 6121, XEPs).
"""

NS_STREAMS = "http://etherx.jabber.org/streams"
NS_CLIENT = "jabber:client"
NS_SERVER = "jabber:server"
NS_COMPONENT = "jabber:component:accept"
NS_XML = "http://www.w3.org/XML/1998/namespace"

# RFC 6120
NS_XMPP_STREAMS = "urn:ietf:params:xml:ns:xmpp-streams"
NS_XMPP_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
NS_TLS = "urn:ietf:params:xml:ns:xmpp-tls"
NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl"
NS_BIND = "urn:ietf:params:xml:ns:xmpp-bind"
NS_SESSION = "urn:ietf:params:xml:ns:xmpp-session"
NS_FRAMING = "urn:ietf:params:xml:ns:xmpp-framing"

# XEP-0124 / XEP-0206 (BOSH)
NS_HTTPBIND = "http://jabber.org/protocol/httpbind"
NS_XBOSH = "urn:xmpp:xbosh"

# RFC 6121
NS_ROSTER = "jabber:iq:roster"
NS_ROSTERVER_FEATURE = "urn:xmpp:features:rosterver"
NS_PRESENCE_PREAPPROVAL = "urn:xmpp:features:pre-approval"

# XEPs
NS_AUTH = "jabber:iq:auth"  # XEP-0078
NS_AUTH_FEATURE = "http://jabber.org/features/iq-auth"
NS_REGISTER = "jabber:iq:register"  # XEP-0077
NS_REGISTER_FEATURE = "http://jabber.org/features/iq-register"
NS_DISCO_INFO = "http://jabber.org/protocol/disco#info"  # XEP-0030
NS_DISCO_ITEMS = "http://jabber.org/protocol/disco#items"
NS_BROWSE = "jabber:iq:browse"  # XEP-0011
NS_VERSION = "jabber:iq:version"  # XEP-0092
NS_TIME = "urn:xmpp:time"  # XEP-0202
NS_TIME_LEGACY = "jabber:iq:time"  # XEP-0090 (deprecated; jabberd 1.4 clients)
NS_LAST = "jabber:iq:last"  # XEP-0012
NS_PING = "urn:xmpp:ping"  # XEP-0199
NS_VCARD = "vcard-temp"  # XEP-0054
NS_VCARD_UPDATE = "vcard-temp:x:update"  # XEP-0153
NS_VCARD4 = "urn:ietf:params:xml:ns:vcard-4.0"  # XEP-0292 (RFC 6351)
NODE_VCARD4 = "urn:xmpp:vcard4"  # XEP-0292: the PEP node of one's vCard4
NS_AVATAR_DATA = "urn:xmpp:avatar:data"  # XEP-0084 (also the node's name)
NS_AVATAR_METADATA = "urn:xmpp:avatar:metadata"  # XEP-0084 (also the node's name)
NS_PEP_VCARD_CONVERSION = "urn:xmpp:pep-vcard-conversion:0"  # XEP-0398
NS_PRIVATE = "jabber:iq:private"  # XEP-0049
NS_DELAY = "urn:xmpp:delay"  # XEP-0203
NS_DELAY_LEGACY = "jabber:x:delay"  # XEP-0091
NS_OFFLINE = "http://jabber.org/protocol/offline"  # XEP-0013
NS_MSGOFFLINE = "msgoffline"  # XEP-0160
NS_FORWARD = "urn:xmpp:forward:0"  # XEP-0297
NS_CSI = "urn:xmpp:csi:0"  # XEP-0352
NS_SM = "urn:xmpp:sm:3"  # XEP-0198
NS_CHATSTATES = "http://jabber.org/protocol/chatstates"  # XEP-0085
# Private: the session manager and its offline store component (XEP-0160).
NS_OFFLINE_STORE = "urn:xmpp:jabberd:offline:0"
NS_X_OOB = "jabber:x:oob"
NS_IQ_OOB = "jabber:iq:oob"
NS_DATA = "jabber:x:data"  # XEP-0004
NS_CAPS = "http://jabber.org/protocol/caps"
NS_MUC = "http://jabber.org/protocol/muc"
NS_MUC_USER = "http://jabber.org/protocol/muc#user"
NS_MUC_ADMIN = "http://jabber.org/protocol/muc#admin"
NS_MUC_OWNER = "http://jabber.org/protocol/muc#owner"
NS_CONFERENCE = "jabber:iq:conference"
NS_X_CONFERENCE = "jabber:x:conference"  # XEP-0249
NS_UPLOAD = "urn:xmpp:http:upload:0"  # XEP-0363
NS_DELEGATION = "urn:xmpp:delegation:2"  # XEP-0355
NS_PRIVILEGE = "urn:xmpp:privilege:2"  # XEP-0356
NS_CLIENT_IP = "urn:xmpp:jabberd:client-ip"  # ours: the client address on pre-auth delegations
NS_TLS_DIRECT = "urn:xmpp:directtls"  # XEP-0368 (no element; listed for docs)
NS_CARBONS = "urn:xmpp:carbons:2"  # XEP-0280
NS_HINTS = "urn:xmpp:hints"  # XEP-0334
NS_RECEIPTS = "urn:xmpp:receipts"  # XEP-0184
NS_CHAT_MARKERS = "urn:xmpp:chat-markers:0"  # XEP-0333

# XEP-0220 (Server Dialback)
NS_DIALBACK = "jabber:server:dialback"
NS_DIALBACK_FEATURE = "urn:xmpp:features:dialback"

NS_BLOCKING = "urn:xmpp:blocking"  # XEP-0191
NS_BLOCKING_ERRORS = "urn:xmpp:blocking:errors"  # XEP-0191
NS_REPORTING = "urn:xmpp:reporting:1"  # XEP-0377
NS_MAM = "urn:xmpp:mam:2"  # XEP-0313
NS_MAM_EXTENDED = "urn:xmpp:mam:2#extended"  # XEP-0313 section 6 (before-id, after-id, ids)
NS_SID = "urn:xmpp:sid:0"  # XEP-0359
NS_RSM = "http://jabber.org/protocol/rsm"  # XEP-0059
NS_XDATA_VALIDATE = "http://jabber.org/protocol/xdata-validate"  # XEP-0122

NS_PUSH = "urn:xmpp:push:0"  # XEP-0357
NS_PUSH_SUMMARY = "urn:xmpp:push:summary"  # XEP-0357 section 7, the summary FORM_TYPE
NS_PUBSUB = "http://jabber.org/protocol/pubsub"  # XEP-0060
NS_PUBSUB_PUBLISH_OPTIONS = "http://jabber.org/protocol/pubsub#publish-options"  # XEP-0060 7.1.5

# Multi-User Chat extensions of the conference component.
NS_OCCUPANT_ID = "urn:xmpp:occupant-id:0"  # XEP-0421
NS_MUC_SELF_PING = "http://jabber.org/protocol/muc#self-ping-optimization"  # XEP-0410 3.3

# XEP-0060 (Publish-Subscribe, with NS_PUBSUB above), used by PEP (XEP-0163) and XEP-0223
NS_PUBSUB_OWNER = "http://jabber.org/protocol/pubsub#owner"
NS_PUBSUB_EVENT = "http://jabber.org/protocol/pubsub#event"
NS_PUBSUB_ERRORS = "http://jabber.org/protocol/pubsub#errors"
NS_PUBSUB_NODE_CONFIG = "http://jabber.org/protocol/pubsub#node_config"

# Bookmarks: PEP Native Bookmarks (XEP-0402) and the older Bookmark Storage (XEP-0048)
NS_BOOKMARKS2 = "urn:xmpp:bookmarks:1"  # XEP-0402: the node and the <conference/> payload
NS_BOOKMARKS2_COMPAT = NS_BOOKMARKS2 + "#compat"  # XEP-0402 section 5.3: private XML kept in step
NS_BOOKMARKS2_COMPAT_PEP = NS_BOOKMARKS2 + "#compat-pep"  # the XEP-0048 PEP node kept in step
NS_BOOKMARKS = "storage:bookmarks"  # XEP-0048: <storage/>, in private XML or as a PEP node
