# -*- test-case-name: tests.test_config -*-
"""
The configuration file (C{etc/jabberd.ini}), read in one place into small
typed objects.  A bad value is a L{ConfigError} naming the section and key,
raised at start-up, never a surprise later.

Listeners are Twisted endpoint strings (C{tcp:5222:interface=127.0.0.1}).
"""

import configparser
import ipaddress
import os
import re
from dataclasses import dataclass, field

__all__ = ["ConfigError", "Section", "Config", "ServerConfig", "C2SConfig",
           "ComponentConfig", "HTTPConfig", "S2SConfig", "PresenceConfig", "load", "parse",
           "ArchiveConfig", "ParserConfig", "ConnectionsConfig", "PushConfig",
           "CapsConfig"]
__all__ += ["PEPConfig", "VCardConfig", "AvatarsConfig"]


class ConfigError(Exception):
    """A configuration value is missing or wrong; the message says where."""


@dataclass
class ServerConfig:
    """C{[server]}: the domains served and where data lives."""

    domains: list
    datadir: str
    database: str
    certificate: str = ""
    privateKey: str = ""
    maxStanzaSize: int = 262144
    idleTimeout: int = 600
    keepaliveInterval: int = 60
    logTraffic: bool = False
    logLevel: str = "info"
    offlineStore: str = ""
    offlineBacklog: int = 1048576
    maxOpenFiles: int = 65536
    trimInterval: int = 30
    mmapThreshold: int = 131072


@dataclass
class C2SConfig:
    """
    C{[c2s]}: the client listeners (RFC 6120) and authentication policy.

    @ivar authFailFree: failed authentications per client IP address and
        per account (within C{authFailWindow}) before delays start.
    @ivar authFailDelay: seconds of the first delay; each further failure
        doubles it.
    @ivar authFailMaxDelay: longest delay, in seconds.
    @ivar authFailWindow: seconds after the last failure that an address's
        or account's count is forgotten.
    @ivar authFailTracked: most addresses and accounts remembered.
    @ivar authThreads: threads running PBKDF2 (password checks, SCRAM keys).
    @ivar authMaxPending: PBKDF2 calls queued at most; more are answered
        C{temporary-auth-failure}.
    @ivar maxOutputBuffer: bytes written to a client whose TCP write buffer
        is over its high-water mark (it stopped reading) before it is
        dropped; 0 never drops.
    @ivar inputRate: bytes a second read from one client connection (0: no
        limit); a faster client is paused, not cut off.
    @ivar inputBurst: bytes a client may send at once above the rate.
    @ivar stanzaRate: stanzas a second read from one client (0: no limit).
    @ivar stanzaBurst: stanzas a client may send at once above the rate.
    """

    listen: str = "tcp:5222"
    listenTLS: str = "tcp:5223"
    requireTLS: bool = True
    mechanisms: list = field(default_factory=lambda: ["SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"])
    legacyAuth: bool = True
    storePlaintext: bool = False
    scramIterations: int = 4096
    csiMaxHeld: int = 500
    csiUrgentFlush: str = "sender"
    authFailFree: int = 5
    authFailDelay: int = 1
    authFailMaxDelay: int = 60
    authFailWindow: int = 900
    authFailTracked: int = 10000
    authThreads: int = 2
    authMaxPending: int = 64
    maxOutputBuffer: int = 1048576
    inputRate: int = 262144
    inputBurst: int = 1048576
    stanzaRate: int = 500
    stanzaBurst: int = 2000
    resumptionTimeout: int = 3600
    resumptionMaxQueue: int = 500


@dataclass
class S2SConfig:
    """
    C{[s2s]}: federation with other servers (RFC 6120 section 10.4, XEP-0220).

    @ivar listen: where other servers connect; empty turns s2s off (remote
        domains then get C{remote-server-not-found}).
    @ivar requireTLS: refuse dialback without TLS, both ways.
    @ivar secret: the dialback secret (XEP-0185); empty means random per start.
    @ivar hosts: domain -> (host, port) used instead of DNS (private
        federations, tests).
    @ivar connectTimeout: seconds to get a stream to a remote server ready.
    @ivar idleTimeout: seconds without traffic after which a stream to or
        from another server is closed (0: never); the next stanza opens a
        new one.
    @ivar allowPrivateAddresses: dial remote servers at any address, not only
        globally routable ones (L{jabberd.s2s.addresses}).
    @ivar allowedNetworks: networks (C{ipaddress} objects) dialed even when
        not public: internal federations, tests on loopback.
    @ivar allowIPLiterals: dial domains that are IP addresses.
    @ivar maxVerifications: dialback key checks (outgoing connections a
        peer made us open) under way at once, in total.
    @ivar maxVerificationsPerDomain: the same, for one claimed domain.
    @ivar maxConnecting: outgoing streams being set up at once (before
        dialback succeeded); a stanza for another new domain bounces.
    """

    listen: str = ""
    requireTLS: bool = True
    secret: str = ""
    hosts: dict = field(default_factory=dict)
    connectTimeout: int = 30
    idleTimeout: int = 600
    allowPrivateAddresses: bool = False
    allowedNetworks: list = field(default_factory=list)
    allowIPLiterals: bool = False
    maxVerifications: int = 100
    maxVerificationsPerDomain: int = 5
    maxConnecting: int = 200


@dataclass
class ComponentConfig:
    """
    C{[component:DOMAIN]}: a component allowed to attach (XEP-0114).

    @ivar trusted: may send from any address (XEP-0355/0356 spirit).
    @ivar plugin: name of a bundled component run in process, or empty for
        one that connects over TCP with C{secret}.
    @ivar external: the C{plugin} runs in its own process
        (C{twistd jabberd-component}) and connects over TCP with C{secret}.
    @ivar delegate: namespaces whose iqs to the server and to local
        accounts the session manager hands to this component (XEP-0355,
        see L{jabberd.sm.delegation}); only for a trusted component.
    """

    domain: str
    secret: str = ""
    trusted: bool = False
    plugin: str = ""
    external: bool = False
    options: dict = field(default_factory=dict)
    delegate: list = field(default_factory=list)


@dataclass
class HTTPConfig:
    """
    C{[http]}: the shared HTTP site (uploads; BOSH, WebSocket, web chat).

    @ivar publicURL: base URL clients use, without a trailing slash; empty
        means C{http://<first domain>:<bound port>}.
    @ivar corsOrigins: origins allowed to call from browsers; C{*} for any.
    @ivar boshPath: path of BOSH (XEP-0206); empty turns it off.
    @ivar websocketPath: path of XMPP over WebSocket (RFC 7395); empty
        turns it off.
    @ivar webchat: serve the web chat page.
    @ivar webchatPath: path of the web chat page; empty is the site root.
    @ivar considerSecure: BOSH and WebSocket over plain HTTP count as
        encrypted (a TLS-terminating proxy in front); HTTPS always does.
    @ivar loopbackSecure: plain HTTP from a loopback address counts as
        encrypted (the traffic never leaves the machine).
    @ivar boshMaxWait: longest a BOSH request is held, in seconds.
    @ivar boshMaxHold: most BOSH requests held at once per session.
    @ivar boshInactivity: seconds a BOSH session may go without a pending
        request before it ends.
    @ivar boshMaxPause: longest pause a BOSH client may ask for (0: none).
    @ivar boshPolling: shortest interval between empty BOSH polls.
    @ivar boshMaxBody: largest BOSH request body, in bytes, refused with
        HTTP 413 before it is kept; 0 means C{[server] max_stanza_size}
        plus 16 KB of framing.
    @ivar boshMaxPayloads: most first-level elements in one BOSH body.
    @ivar boshMaxElements: most elements, at any depth, in one BOSH body.
    @ivar boshMaxOutput: bytes queued for a BOSH session while it has no
        request to answer with them; past it the session is terminated
        (0: no limit).
    @ivar websocketMaxMessage: largest WebSocket frame and message (RFC
        7395 section 3.3.3: one stanza each), refused by the WebSocket
        layer as its header arrives; 0 means C{[server] max_stanza_size}
        plus 16 KB.
    """

    listen: str = "tcp:5280"
    listenTLS: str = ""
    publicURL: str = ""
    corsOrigins: list = field(default_factory=lambda: ["*"])
    boshPath: str = "http-bind"
    websocketPath: str = "xmpp-websocket"
    webchat: bool = True
    webchatPath: str = ""
    considerSecure: bool = False
    loopbackSecure: bool = True
    boshMaxWait: int = 60
    boshMaxHold: int = 1
    boshInactivity: int = 60
    boshMaxPause: int = 300
    boshPolling: int = 2
    boshMaxBody: int = 0
    boshMaxPayloads: int = 100
    boshMaxElements: int = 10000
    boshMaxOutput: int = 1048576
    websocketMaxMessage: int = 0


@dataclass
class PresenceConfig:
    """
    C{[presence]}: subscriptions (RFC 6121 section 3).

    @ivar maxPendingSubscriptions: the most inbound subscription requests
        kept for one account until it answers; one more from another sender
        is refused with C{resource-constraint}.
    @ivar maxRequestText: the most characters kept of a waiting request's
        status and of its nick (XEP-0172).
    """

    maxPendingSubscriptions: int = 100
    maxRequestText: int = 1024


@dataclass
class BlockingConfig:
    """
    C{[blocking]}: the Blocking Command (XEP-0191).

    @ivar maxItems: the most JIDs one user's block list may hold; a block
        that would pass it is refused with C{policy-violation}.
    """

    maxItems: int = 1000


@dataclass
class ArchiveConfig:
    """
    C{[archive]}: the users' message archives (XEP-0313).

    @ivar default: the archiving default of users who set no preferences
        (XEP-0313 section 5): C{always}, C{roster} or C{never}.
    @ivar maxPage: the most messages one query returns (XEP-0059 C{max}).
    @ivar expireAfter: seconds a message is kept (0: forever).
    @ivar maxPerUser: the most messages kept per user (0: no bound).
    @ivar sweepInterval: seconds between retention sweeps (expiry, trim).
    """

    default: str = "always"
    maxPage: int = 100
    expireAfter: int = 0
    maxPerUser: int = 0
    sweepInterval: int = 600


@dataclass
class PushConfig:
    """
    C{[push]}: push notifications to the app servers of mobile clients
    (XEP-0357).

    @ivar maxRegistrations: the most push services (JID and node) one
        account may enable; one more is refused with C{policy-violation}
        (0: no bound).
    @ivar timeout: seconds to wait for an app server's answer to a
        publish; no answer disables that registration, as an error does.
    @ivar includeBody: C{never}, or C{on_request}: the last message's body
        goes to the app server only for registrations that asked for it.
    """

    maxRegistrations: int = 5
    timeout: int = 30
    includeBody: str = "on_request"


@dataclass
class ParserConfig:
    """
    C{[parser]}: what one stanza may make the XML parser build, on every
    stream (RFC 6120 section 4.9.3.14, C{policy-violation} past a limit);
    see L{jabberd.xmlparser.ParserLimits}.  A client stream uses the
    C{before_auth} limits until it has authenticated.

    @ivar maxElements: elements in one stanza (first-level element).
    @ivar maxDepth: nesting depth of elements in a stanza.
    @ivar maxAttributes: attributes of one element, namespace declarations
        included, the stream header's too.
    @ivar maxHeaderSize: bytes before the stream header is complete.
    @ivar maxElementsBeforeAuth: elements in one stanza before a client
        has authenticated.
    @ivar maxStanzaSizeBeforeAuth: bytes of one stanza before a client has
        authenticated (at most C{[server] max_stanza_size}).
    """

    maxElements: int = 5000
    maxDepth: int = 32
    maxAttributes: int = 32
    maxHeaderSize: int = 4096
    maxElementsBeforeAuth: int = 50
    maxStanzaSizeBeforeAuth: int = 16384


@dataclass
class ConnectionsConfig:
    """
    C{[connections]}: admission of client connections (TCP, direct TLS,
    BOSH sessions and WebSocket connections count alike) and the deadline
    to authenticate.

    @ivar authTimeout: seconds a client stream may take to authenticate
        before it is closed with C{connection-timeout} (0: no deadline).
    @ivar maxPerAddress: client connections from one IPv4 address, or one
        IPv6 prefix of C{ipv6Prefix} bits (0: no limit).
    @ivar maxTotal: client connections in all (0: no limit).
    @ivar ipv6Prefix: IPv6 addresses sharing this many leading bits count
        as one address (a host is usually given a whole /64).
    @ivar exempt: networks (CIDR) never limited per address.
    @ivar tlsMaxEmptyRecords: TLS 1.3 records in a row without data (empty
        application data, user_canceled alerts) before a connection is
        ended (L{jabberd.tls.records.ProtectedChannel.maxEmptyRecords}).
    """

    authTimeout: int = 60
    maxPerAddress: int = 50
    maxTotal: int = 10000
    ipv6Prefix: int = 64
    exempt: list = field(default_factory=list)
    tlsMaxEmptyRecords: int = 32


@dataclass
class CapsConfig:
    """
    C{[caps]}: entity capabilities (XEP-0115) in the session manager.

    @ivar maxCached: verification strings whose verified features are kept
        (least recently used go first); shared by all users.
    @ivar timeout: seconds to wait for a disco#info answer; then the entity
        is taken to have no features, and its string may be asked again.
    @ivar maxQueries: disco#info queries outstanding at once; as many more
        strings wait their turn, any beyond are not asked.
    @ivar maxEntities: remote full JIDs whose capabilities are tracked.
    """

    maxCached: int = 10000
    timeout: int = 30
    maxQueries: int = 100
    maxEntities: int = 100000


@dataclass
class PEPConfig:
    """
    C{[pep]}: Personal Eventing (XEP-0163) on every account.

    @ivar maxItemsPerNode: the most items one node keeps (C{max_items =
        max} means this many); a larger C{max_items} is C{not-acceptable}.
    @ivar maxNodes: the most nodes one account holds.
    @ivar maxItemSize: the most bytes of one item's payload.
    """

    maxItemsPerNode: int = 1000
    maxNodes: int = 200
    maxItemSize: int = 131072


@dataclass
class VCardConfig:
    """
    C{[vcard]}: vcard-temp (XEP-0054).

    @ivar maxSize: the most bytes of one stored vCard, not counting its
        photo's C{<BINVAL/>} (bounded by C{[avatars] max_bytes}).
    """

    maxSize: int = 65536


@dataclass
class AvatarsConfig:
    """
    C{[avatars]}: user avatars, XEP-0084 in PEP and the vCard photo of
    XEP-0054/XEP-0153, converted both ways (XEP-0398).

    @ivar maxBytes: the most bytes of one avatar image, in either protocol.
    """

    maxBytes: int = 65536


@dataclass
class BookmarksConfig:
    """
    C{[bookmarks]}: PEP Native Bookmarks (XEP-0402) and the older forms the
    server keeps in step with them (section 5.3).

    @ivar compat: convert XEP-0048 bookmarks in private XML storage
        (XEP-0049) both ways (C{urn:xmpp:bookmarks:1#compat}).
    @ivar compatPEP: keep the XEP-0048 PEP node C{storage:bookmarks}
        (XEP-0223) in step too (C{urn:xmpp:bookmarks:1#compat-pep}).
    """

    compat: bool = True
    compatPEP: bool = True


@dataclass
class ClusterConfig:
    """
    C{[cluster]}: this process is one node of several serving the same
    domains (L{jabberd.cluster}); absent, the server runs alone.

    @ivar node: this node's name, unique in the cluster.
    @ivar nats: the NATS server's URL (routing, presence and the session
        directory between nodes).
    @ivar database: the storage URL every node shares (PostgreSQL); it
        replaces C{[server] database}.
    @ivar name: the cluster's name, the first token of every NATS subject,
        so that clusters can share one NATS server.
    @ivar heartbeat: seconds between a node's heartbeats.
    @ivar deadAfter: seconds without a heartbeat after which a node is dead.
    @ivar workers: processes this node starts on one host, sharing the
        listening ports (SO_REUSEPORT); 1 runs in this process alone.
    @ivar maxMessage: the most bytes of one message between nodes.
    @ivar maxInFlight: the most messages to one node kept until it confirms
        them (L{jabberd.cluster.inflight}).
    @ivar reusePort: listen with C{SO_REUSEPORT} (on by default with
        C{workers} above 1; L{jabberd.cluster.workers}).
    @ivar handoverTimeout: seconds a node waits for another to hand over a
        stream management session a client resumes here
        (L{jabberd.cluster.handover}); then C{item-not-found}.
    @ivar secret: the text every node shares, from which the keys a single
        server keeps in its data directory are derived
        (L{jabberd.cluster.secrets}).
    """

    node: str
    nats: str = "nats://127.0.0.1:4222"
    database: str = ""
    name: str = "jabberd"
    heartbeat: float = 1.0
    deadAfter: float = 5.0
    workers: int = 1
    maxMessage: int = 1048576
    maxInFlight: int = 10000
    handoverTimeout: float = 3.0
    secret: str = ""
    reusePort: bool = False


@dataclass
class Config:
    """The whole configuration."""

    path: str
    server: ServerConfig
    c2s: C2SConfig
    componentListen: str
    components: dict
    sections: dict
    http: HTTPConfig = field(default_factory=HTTPConfig)
    s2s: S2SConfig = field(default_factory=S2SConfig)
    blocking: BlockingConfig = field(default_factory=BlockingConfig)
    presence: PresenceConfig = field(default_factory=PresenceConfig)
    archive: ArchiveConfig = field(default_factory=ArchiveConfig)
    push: PushConfig = field(default_factory=PushConfig)
    parser: ParserConfig = field(default_factory=ParserConfig)
    connections: ConnectionsConfig = field(default_factory=ConnectionsConfig)
    caps: CapsConfig = field(default_factory=CapsConfig)
    pep: PEPConfig = field(default_factory=PEPConfig)
    vcard: VCardConfig = field(default_factory=VCardConfig)
    avatars: AvatarsConfig = field(default_factory=AvatarsConfig)
    bookmarks: BookmarksConfig = field(default_factory=BookmarksConfig)
    cluster: ClusterConfig = None


_TRUE = {"1", "yes", "true", "on"}
_FALSE = {"0", "no", "false", "off", ""}


class Section:
    """
    Typed access to one section, with errors naming section and key.
    Components read their own keys with it (L{Section.ofComponent}).
    """

    def __init__(self, name, values):
        self.name = name
        self.values = values

    @classmethod
    def ofParser(cls, parser, name):
        """The section C{name} of a parsed file (empty when absent)."""
        return cls(name, dict(parser[name]) if parser.has_section(name) else {})

    @classmethod
    def ofComponent(cls, componentConfig):
        """The component's own keys, C{componentConfig.options}."""
        return cls("component:" + componentConfig.domain, componentConfig.options)

    def str(self, key, default):
        return self.values.get(key, default).strip()

    def int(self, key, default, parse=int, expected="a whole number"):
        """
        A non-negative number; C{parse} reads other notations (sizes with
        K/M/G suffixes), C{expected} names them in the error.
        """
        raw = self.values.get(key)
        if raw is None:
            return default
        try:
            value = parse(raw.strip())
        except ValueError:
            raise ConfigError(f"[{self.name}] {key}: expected {expected}, got {raw!r}")
        if value < 0:
            raise ConfigError(f"[{self.name}] {key}: must not be negative, got {value}")
        return value

    def positive(self, key, default, **kwargs):
        """L{int}, but at least 1: for counts, sizes and times where 0 would refuse everything."""
        value = self.int(key, default, **kwargs)
        if value < 1:
            raise ConfigError(f"[{self.name}] {key}: must be at least 1, got {value}")
        return value

    def bool(self, key, default):
        raw = self.values.get(key)
        if raw is None:
            return default
        lowered = raw.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ConfigError(f"[{self.name}] {key}: expected yes or no, got {raw!r}")

    def choice(self, key, default, choices):
        """One of C{choices} (case-insensitive)."""
        value = self.values.get(key, default).strip().lower()
        if value not in choices:
            raise ConfigError(f"[{self.name}] {key}: expected one of {', '.join(choices)}, "
                              f"got {value!r}")
        return value

    def list(self, key, default):
        raw = self.values.get(key)
        if raw is None:
            return list(default)
        return raw.replace(",", " ").split()


def parse(text, path="<string>", overrides=None):
    """Parse configuration C{text}; relative paths resolve against C{path}."""
    parser = _read(text, path, overrides)
    base = os.path.dirname(os.path.abspath(path)) if path != "<string>" else os.getcwd()
    def section(name):
        return Section.ofParser(parser, name)

    cluster = _clusterConfig(section("cluster")) if parser.has_section("cluster") else None
    server = _serverConfig(section("server"), base)
    if cluster is not None and cluster.database:
        server.database = cluster.database
    return Config(
        path=path,
        server=server,
        c2s=_c2sConfig(section("c2s")),
        componentListen=section("components").str("listen", "tcp:5347:interface=127.0.0.1"),
        components=_componentConfigs(parser),
        sections={n: dict(parser[n]) for n in parser.sections()},
        http=_httpConfig(section("http")),
        s2s=_s2sConfig(section("s2s")),
        blocking=_blockingConfig(section("blocking")),
        presence=_presenceConfig(section("presence")),
        archive=_archiveConfig(section("archive")),
        push=_pushConfig(section("push")),
        parser=_parserConfig(section("parser")),
        connections=_connectionsConfig(section("connections")),
        caps=_capsConfig(section("caps")),
        pep=_pepConfig(section("pep")),
        vcard=VCardConfig(maxSize=section("vcard").positive("max_size", 65536)),
        avatars=AvatarsConfig(maxBytes=section("avatars").positive("max_bytes", 65536)),
        bookmarks=BookmarksConfig(compat=section("bookmarks").bool("compat", True),
                                  compatPEP=section("bookmarks").bool("compat_pep", True)),
        cluster=cluster,
    )


def _read(text, path, overrides):
    """The INI parser for C{text}, with C{overrides} ((section, key) -> value) applied."""
    parser = configparser.ConfigParser(interpolation=None, inline_comment_prefixes=(";",))
    try:
        parser.read_string(text, source=path)
    except configparser.Error as e:
        raise ConfigError(f"{path}: {e}")
    for (section, key), value in (overrides or {}).items():
        if not parser.has_section(section):
            parser.add_section(section)
        parser[section][key] = value
    return parser


def _serverConfig(s, base):
    domains = [d.lower() for d in s.list("domains", ["localhost"])]
    if not domains:
        raise ConfigError("[server] domains: at least one domain is required")
    datadir = os.path.join(base, s.str("datadir", "data"))
    database = s.str("database", "") or "sqlite:///" + os.path.join(datadir, "jabberd.db")
    return ServerConfig(
        domains=domains,
        datadir=datadir,
        database=database,
        certificate=_path(base, s.str("certificate", "")),
        privateKey=_path(base, s.str("private_key", "")),
        maxStanzaSize=s.int("max_stanza_size", 262144),
        idleTimeout=s.int("idle_timeout", 600),
        keepaliveInterval=s.int("keepalive_interval", 60),
        logTraffic=s.bool("log_traffic", False),
        logLevel=s.choice("log_level", "info", ("debug", "info", "warn", "error")),
        offlineStore=s.str("offline_store", "").strip().lower(),
        offlineBacklog=s.int("offline_backlog", 1048576),
        maxOpenFiles=s.int("max_open_files", 65536),
        trimInterval=s.int("trim_interval", 30),
        mmapThreshold=_mmapThreshold(s),
    )


def _mmapThreshold(s):
    """C{[server] mmap_threshold}: 0, or 4096 bytes to glibc's 32 MB maximum."""
    value = s.int("mmap_threshold", 131072)
    if value and not 4096 <= value <= 32 * 1024 * 1024:
        raise ConfigError("[server] mmap_threshold: expected 0 or 4096 to 33554432")
    return value


_MECHANISMS = {"SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"}


def _c2sConfig(c):
    mechanisms = [m.upper() for m in c.list("mechanisms", C2SConfig().mechanisms)]
    for m in mechanisms:
        if m not in _MECHANISMS:
            raise ConfigError(f"[c2s] mechanisms: unknown SASL mechanism {m!r}")
    return C2SConfig(
        listen=c.str("listen", "tcp:5222"),
        listenTLS=c.str("listen_tls", "tcp:5223"),
        requireTLS=c.bool("require_tls", True),
        mechanisms=mechanisms,
        legacyAuth=c.bool("legacy_auth", True),
        storePlaintext=c.bool("store_plaintext", False),
        scramIterations=c.int("scram_iterations", 4096),
        csiMaxHeld=c.int("csi_max_held", 500),
        csiUrgentFlush=c.choice("csi_urgent_flush", "sender", ("sender", "all")),
        **_authLimits(c),
        maxOutputBuffer=c.int("max_output_buffer", 1048576),
        inputRate=c.int("input_rate", 262144),
        inputBurst=c.int("input_burst", 1048576),
        stanzaRate=c.int("stanza_rate", 500),
        stanzaBurst=c.int("stanza_burst", 2000),
        resumptionTimeout=c.int("resumption_timeout", 3600),
        resumptionMaxQueue=c.positive("resumption_max_queue", 500),
    )


def _authLimits(c):
    """The C{[c2s]} keys against password guessing and hashing backlogs."""
    limits = dict(authFailFree=c.int("auth_fail_free", 5),
                  authFailDelay=c.int("auth_fail_delay", 1),
                  authFailMaxDelay=c.int("auth_fail_max_delay", 60),
                  authFailWindow=c.int("auth_fail_window", 900),
                  authFailTracked=c.positive("auth_fail_tracked", 10000),
                  authThreads=c.positive("auth_threads", 2),
                  authMaxPending=c.positive("auth_max_pending", 64))
    return limits


_COMPONENT_KEYS = ("secret", "trusted", "plugin", "external", "delegate")


def _componentConfigs(parser):
    """Domain -> L{ComponentConfig} of every C{[component:DOMAIN]} section."""
    components = {}
    for name in parser.sections():
        if name.startswith("component:"):
            component = _componentConfig(name, Section.ofParser(parser, name))
            components[component.domain] = component
    _checkDelegations(components)
    return components


def _componentConfig(name, sec):
    component = ComponentConfig(
        domain=name.split(":", 1)[1].strip().lower(),
        secret=sec.str("secret", ""),
        trusted=sec.bool("trusted", False),
        plugin=sec.str("plugin", ""),
        external=sec.bool("external", False),
        options={k: v for k, v in sec.values.items() if k not in _COMPONENT_KEYS},
        delegate=sec.list("delegate", []),
    )
    if (component.external or not component.plugin) and not component.secret:
        raise ConfigError(f"[{name}] secret: an external component needs a secret")
    if component.delegate and not component.trusted:
        raise ConfigError(f"[{name}] delegate: only a component with trusted = yes "
                          "may answer for the server")
    return component


def _s2sConfig(s):
    hosts = {}
    for entry in s.list("hosts", []):
        domain, equals, address = entry.partition("=")
        host, colon, port = address.rpartition(":")
        if not equals or not domain.strip() or not colon or not host or not port.isdigit():
            raise ConfigError(f"[s2s] hosts: expected DOMAIN=HOST:PORT entries, got {entry!r}")
        hosts[domain.strip().lower()] = (host.strip("[]"), int(port))
    return S2SConfig(listen=s.str("listen", ""), requireTLS=s.bool("require_tls", True),
                     secret=s.str("secret", ""), hosts=hosts,
                     connectTimeout=s.int("connect_timeout", 30),
                     idleTimeout=s.int("idle_timeout", 600),
                     allowPrivateAddresses=s.bool("allow_private_addresses", False),
                     allowedNetworks=_networks(s.list("allowed_networks", [])),
                     allowIPLiterals=s.bool("allow_ip_literals", False),
                     maxVerifications=s.int("max_verifications", 100),
                     maxVerificationsPerDomain=s.int("max_verifications_per_domain", 5),
                     maxConnecting=s.int("max_connecting", 200))


def _networks(entries):
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ConfigError(f"[s2s] allowed_networks: not a network: {entry!r}") from None
    return networks


def _checkDelegations(components):
    """A namespace is delegated to one component at most (XEP-0355 section 4.2)."""
    owners = {}
    for comp in components.values():
        for namespace in comp.delegate:
            if namespace in owners:
                raise ConfigError(f"[component:{comp.domain}] delegate: {namespace} is "
                                  f"already delegated to {owners[namespace]}")
            owners[namespace] = comp.domain


def _httpConfig(h):
    publicURL = h.str("public_url", "").rstrip("/")
    if publicURL and not publicURL.startswith(("http://", "https://")):
        raise ConfigError(f"[http] public_url: expected an http:// or https:// URL, "
                          f"got {publicURL!r}")
    return HTTPConfig(listen=h.str("listen", "tcp:5280"), listenTLS=h.str("listen_tls", ""),
                      publicURL=publicURL, corsOrigins=h.list("cors_origins", ["*"]),
                      **_webConfig(h))


def _webConfig(h):
    """The C{[http]} keys of BOSH, WebSocket and the web chat page."""
    paths = {key: h.str(key, default).strip("/") for key, default in
             (("bosh_path", "http-bind"), ("websocket_path", "xmpp-websocket"),
              ("webchat_path", ""))}
    for key, value in paths.items():
        if "/" in value:
            raise ConfigError(f"[http] {key}: one path segment expected, got {value!r}")
    if paths["bosh_path"] and paths["bosh_path"] == paths["websocket_path"]:
        raise ConfigError("[http] websocket_path: must differ from bosh_path")
    return dict(boshPath=paths["bosh_path"], websocketPath=paths["websocket_path"],
                webchat=h.bool("webchat", True), webchatPath=paths["webchat_path"],
                considerSecure=h.bool("consider_secure", False),
                loopbackSecure=h.bool("loopback_secure", True),
                boshMaxWait=h.positive("bosh_max_wait", 60), boshMaxHold=h.int("bosh_max_hold", 1),
                boshInactivity=h.int("bosh_inactivity", 60),
                boshMaxPause=h.int("bosh_max_pause", 300),
                boshPolling=h.int("bosh_polling", 2),
                **_boshLimits(h))


def _boshLimits(h):
    """The C{[http]} keys bounding one BOSH request body (XEP-0124 section 17.2)."""
    limits = dict(boshMaxBody=h.int("bosh_max_body", 0),
                  boshMaxPayloads=h.positive("bosh_max_payloads", 100),
                  boshMaxElements=h.positive("bosh_max_elements", 10000),
                  boshMaxOutput=h.int("bosh_max_output", 1048576),
                  websocketMaxMessage=h.int("websocket_max_message", 0))
    return limits


def _path(base, value):
    return os.path.join(base, value) if value else ""


def load(path, overrides=None):
    """Read and parse the configuration file at C{path}."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise ConfigError(f"cannot read configuration {path}: {e.strerror}")
    return parse(text, path, overrides)


_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _duration(text):
    """Seconds of a duration: a number of seconds, or one with an s, m, h or d suffix."""
    text = text.strip().lower()
    unit = _DURATION_UNITS.get(text[-1:]) if text else None
    return int(text[:-1]) * unit if unit else int(text)


def _blockingConfig(b):
    return BlockingConfig(maxItems=b.int("max_items", 1000))


def _presenceConfig(p):
    return PresenceConfig(maxPendingSubscriptions=p.int("max_pending_subscriptions", 100),
                          maxRequestText=p.int("max_request_text", 1024))


def _archiveConfig(a):
    return ArchiveConfig(
        default=a.choice("default", "always", ("always", "roster", "never")),
        maxPage=a.int("max_page", 100),
        expireAfter=a.int("expire_after", 0, parse=_duration,
                          expected="seconds, or a number with s, m, h or d"),
        maxPerUser=a.int("max_per_user", 0),
        sweepInterval=a.int("sweep_interval", 600, parse=_duration,
                            expected="seconds, or a number with s, m, h or d"),
    )


def _pushConfig(p):
    return PushConfig(maxRegistrations=p.int("max_registrations", 5),
                      timeout=p.positive("timeout", 30),
                      includeBody=p.choice("include_body", "on_request", ("never", "on_request")))

def _parserConfig(p):
    return ParserConfig(
        maxElements=p.positive("max_elements", 5000),
        maxDepth=p.positive("max_depth", 32),
        maxAttributes=p.int("max_attributes", 32),
        maxHeaderSize=p.positive("max_header_size", 4096),
        maxElementsBeforeAuth=p.positive("max_elements_before_auth", 50),
        maxStanzaSizeBeforeAuth=p.positive("max_stanza_size_before_auth", 16384),
    )


def _connectionsConfig(c):
    exempt = []
    for network in c.list("exempt", []):
        try:
            exempt.append(ipaddress.ip_network(network, strict=False))
        except ValueError:
            raise ConfigError(f"[connections] exempt: not a network: {network!r}")
    prefix = c.int("ipv6_prefix", 64)
    if not 1 <= prefix <= 128:
        raise ConfigError(f"[connections] ipv6_prefix: expected 1 to 128, got {prefix}")
    return ConnectionsConfig(
        authTimeout=c.int("auth_timeout", 60, parse=_duration,
                          expected="seconds, or a number with s, m, h or d"),
        maxPerAddress=c.int("max_per_address", 50),
        maxTotal=c.int("max_total", 10000),
        ipv6Prefix=prefix,
        exempt=exempt,
        tlsMaxEmptyRecords=c.int("tls_max_empty_records", 32),
    )


def _capsConfig(c):
    return CapsConfig(maxCached=c.positive("max_cached", 10000), timeout=c.positive("timeout", 30),
                      maxQueries=c.positive("max_queries", 100),
                      maxEntities=c.int("max_entities", 100000))

def _pepConfig(p):
    return PEPConfig(maxItemsPerNode=p.positive("max_items_per_node", 1000),
                     maxNodes=p.positive("max_nodes", 200),
                     maxItemSize=p.positive("max_item_size", 131072))


_NODE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _clusterConfig(c):
    node = c.str("node", "")
    name = c.str("name", "jabberd")
    for key, value in (("node", node), ("name", name)):
        if not _NODE_NAME.match(value):
            raise ConfigError(f"[cluster] {key}: expected 1 to 64 letters, digits, - or _, "
                              f"got {value!r}")
    nats = c.str("nats", "nats://127.0.0.1:4222")
    if not nats.startswith(("nats://", "tls://")):
        raise ConfigError(f"[cluster] nats: expected a nats:// URL, got {nats!r}")
    config = ClusterConfig(
        node=node, nats=nats, database=c.str("database", ""), name=name,
        heartbeat=c.positive("heartbeat_ms", 1000) / 1000,
        deadAfter=c.int("dead_after_ms", 5000) / 1000,
        workers=c.positive("workers", 1),
        maxMessage=c.int("max_message_size", 1048576, parse=_size,
                         expected="bytes, or a number with K or M"),
        maxInFlight=c.int("max_in_flight", 10000),
        handoverTimeout=c.positive("handover_ms", 3000) / 1000,
        secret=c.str("secret", ""),
    )
    config.reusePort = c.bool("reuse_port", config.workers > 1)
    if len(config.secret) < 16:
        raise ConfigError("[cluster] secret: the same text of at least 16 characters on "
                          "every node is required")
    if config.deadAfter < 2 * config.heartbeat:
        raise ConfigError("[cluster] dead_after_ms: must be at least twice heartbeat_ms")
    return config


def _size(text):
    """Bytes of a size: a number, or one with a K or M suffix."""
    text = text.strip().upper()
    units = {"K": 1024, "M": 1024 * 1024}
    return int(text[:-1]) * units[text[-1]] if text[-1:] in units else int(text)
