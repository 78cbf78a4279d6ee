// A small XMPP client for the jabberd web chat page.
//
// Framings: WebSocket (RFC 7395) and BOSH (XEP-0124 with XEP-0206); the
// stream logic above them is one (features, SASL, restart, bind).
// Authentication: SCRAM-SHA-256 / SCRAM-SHA-1 (RFC 5802, RFC 7677) through
// WebCrypto, or PLAIN (RFC 4616) when the server offers it (it does only on
// an encrypted or trusted connection).  In-band registration: XEP-0077.

export const NS = {
  CLIENT: "jabber:client",
  STREAMS: "http://etherx.jabber.org/streams",
  STREAM_ERRORS: "urn:ietf:params:xml:ns:xmpp-streams",
  STANZAS: "urn:ietf:params:xml:ns:xmpp-stanzas",
  FRAMING: "urn:ietf:params:xml:ns:xmpp-framing",
  HTTPBIND: "http://jabber.org/protocol/httpbind",
  XBOSH: "urn:xmpp:xbosh",
  SASL: "urn:ietf:params:xml:ns:xmpp-sasl",
  BIND: "urn:ietf:params:xml:ns:xmpp-bind",
  SESSION: "urn:ietf:params:xml:ns:xmpp-session",
  REGISTER: "jabber:iq:register",
  ROSTER: "jabber:iq:roster",
  MUC: "http://jabber.org/protocol/muc",
  MUC_USER: "http://jabber.org/protocol/muc#user",
  MUC_OWNER: "http://jabber.org/protocol/muc#owner",
  DATA: "jabber:x:data",
};

// --- XML out: elements are built as small trees and written as text ---

const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" };

export function escapeXML(text) {
  return String(text).replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

export class Node {
  constructor(name, attrs, children) {
    this.name = name;
    this.attrs = attrs;
    this.children = children;
  }

  toString() {
    let out = "<" + this.name;
    for (const [key, value] of Object.entries(this.attrs)) {
      if (value !== undefined && value !== null) out += ` ${key}='${escapeXML(value)}'`;
    }
    if (!this.children.length) return out + "/>";
    const inner = this.children.map((c) => (c instanceof Node ? c.toString() : escapeXML(c)));
    return out + ">" + inner.join("") + "</" + this.name + ">";
  }
}

/** x("message", {to, type}, x("body", {}, "hi")) */
export function x(name, attrs, ...children) {
  const kept = children.flat().filter((c) => c !== null && c !== undefined && c !== false);
  return new Node(name, attrs || {}, kept);
}

/** A stanza in jabber:client (the wrappers of both framings declare another default). */
export function stanza(name, attrs, ...children) {
  return x(name, { xmlns: NS.CLIENT, ...attrs }, ...children);
}

// --- XML in ---

const parser = new DOMParser();

export function parseXML(text) {
  const doc = parser.parseFromString(text, "text/xml");
  const root = doc.documentElement;
  if (!root || root.getElementsByTagName("parsererror").length || root.localName === "parsererror") {
    throw new Error("the server sent XML that does not parse");
  }
  return root;
}

export function children(element, name, ns) {
  return Array.from(element.children).filter(
    (c) => (!name || c.localName === name) && (!ns || c.namespaceURI === ns));
}

export function child(element, name, ns) {
  return children(element, name, ns)[0] || null;
}

export function childText(element, name, ns) {
  const c = child(element, name, ns);
  return c ? c.textContent : null;
}

export function bare(jid) {
  return (jid || "").split("/")[0];
}

export function resourceOf(jid) {
  const i = (jid || "").indexOf("/");
  return i < 0 ? "" : jid.slice(i + 1);
}

/** The condition of a stanza or stream error element (RFC 6120 sections 4.9.3, 8.3.3). */
export function errorCondition(element) {
  const error = element.localName === "error" ? element : child(element, "error");
  if (!error) return "undefined-condition";
  const found = Array.from(error.children).find((c) => c.localName !== "text");
  const text = childText(error, "text");
  return (found ? found.localName : "undefined-condition") + (text ? ": " + text : "");
}

// --- bytes and WebCrypto ---

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function toBase64(bytes) {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

function fromBase64(text) {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

function randomBase64(n) {
  return toBase64(crypto.getRandomValues(new Uint8Array(n)));
}

export function scramAvailable() {
  return Boolean(globalThis.crypto && crypto.subtle);
}

async function hmac(key, data, hash) {
  const k = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", k, typeof data === "string" ? encoder.encode(data) : data));
}

async function pbkdf2(password, salt, iterations, hash, bits) {
  const k = await crypto.subtle.importKey("raw", encoder.encode(password), "PBKDF2", false, ["deriveBits"]);
  return new Uint8Array(await crypto.subtle.deriveBits({ name: "PBKDF2", salt, iterations, hash }, k, bits));
}

const SCRAM = {
  "SCRAM-SHA-256": { hash: "SHA-256", bits: 256 },
  "SCRAM-SHA-1": { hash: "SHA-1", bits: 160 },
};

/** RFC 5802 section 5.1: ',' and '=' in a username are escaped. */
function saslName(name) {
  return name.replace(/=/g, "=3D").replace(/,/g, "=2C");
}

// --- framings ---

/** RFC 7395: one element per text message, <open/> and <close/> around the stream. */
class WebSocketFraming {
  constructor(url, sink) {
    this.url = url;
    this.sink = sink;
    this.name = "WebSocket";
  }

  open(domain) {
    this.domain = domain;
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(this.url, "xmpp");
      let opened = false;
      socket.onopen = () => {
        opened = true;
        if (socket.protocol !== "xmpp") {
          socket.close();
          reject(new Error("the server did not accept the xmpp subprotocol"));
          return;
        }
        this.sendOpen();
        resolve();
      };
      socket.onmessage = (event) => this.onMessage(event.data);
      socket.onclose = () => {
        if (!opened) reject(new Error("WebSocket connection failed"));
        else this.sink.closed("the connection was closed");
      };
      this.socket = socket;
    });
  }

  sendOpen() {
    this.socket.send(String(x("open", { xmlns: NS.FRAMING, to: this.domain, version: "1.0" })));
  }

  restart() {
    this.sendOpen();
  }

  send(node) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) this.socket.send(String(node));
  }

  onMessage(text) {
    let element;
    try {
      element = parseXML(text);
    } catch (e) {
      this.sink.closed(e.message);
      return;
    }
    if (element.namespaceURI === NS.FRAMING) {
      if (element.localName === "close") {
        this.socket.close();
        this.sink.closed("the server closed the stream");
      }
      return; // <open/>: the stream (re)started
    }
    this.sink.receive(element);
  }

  close() {
    if (!this.socket) return;
    this.send(x("close", { xmlns: NS.FRAMING }));
    const socket = this.socket;
    setTimeout(() => socket.close(), 500);
  }
}

/**
 * XEP-0124/XEP-0206: one long-poll request is kept at the server (hold=1);
 * what the client sends goes in a second request; responses are handled in
 * request id order.
 */
class BoshFraming {
  constructor(url, sink) {
    this.url = url;
    this.sink = sink;
    this.name = "BOSH";
    this.rid = Math.floor(Math.random() * 4294967295) + 1;
    this.nextToDeliver = this.rid;
    this.results = new Map();
    this.queue = [];
    this.inflight = 0;
    this.requests = 2;
    this.sid = null;
    this.restartPending = false;
    this.ended = false;
  }

  async open(domain) {
    this.domain = domain;
    const created = await this.post({
      to: domain, "xml:lang": "en", wait: 30, hold: 1, ver: "1.11",
      "xmpp:version": "1.0", "xmlns:xmpp": NS.XBOSH, content: "text/xml; charset=utf-8",
    }, []);
    this.sid = created.getAttribute("sid");
    this.requests = Number(created.getAttribute("requests")) || 2;
    this.nextToDeliver = this.rid; // the creation response is handled here, not in arrived()
    this.deliver(created);
    this.pump();
  }

  send(node) {
    this.queue.push(String(node));
    this.pump();
  }

  restart() {
    this.restartPending = true;
    this.pump();
  }

  pump() {
    if (this.ended || !this.sid) return;
    while (this.inflight < this.requests && (this.restartPending || this.queue.length)) {
      if (this.restartPending) {
        this.restartPending = false;
        this.request({ "xmpp:restart": "true", "xmlns:xmpp": NS.XBOSH, to: this.domain, "xml:lang": "en" }, []);
      } else {
        this.request({}, this.queue.splice(0));
      }
    }
    if (this.inflight === 0) this.request({}, []); // keep one request waiting at the server
  }

  request(attrs, payloads) {
    const rid = this.rid;
    this.post({ sid: this.sid, ...attrs }, payloads).then(
      (body) => this.arrived(rid, body),
      (error) => this.fail(error.message));
  }

  async post(attrs, payloads) {
    const rid = this.rid++;
    this.inflight += 1;
    const body = `<body xmlns='${NS.HTTPBIND}' rid='${rid}'` +
      Object.entries(attrs).map(([k, v]) => ` ${k}='${escapeXML(v)}'`).join("") +
      ">" + payloads.join("") + "</body>";
    try {
      const response = await fetch(this.url, {
        method: "POST", body, headers: { "Content-Type": "text/xml; charset=utf-8" },
      });
      if (!response.ok) throw new Error("BOSH request failed: HTTP " + response.status);
      return parseXML(await response.text());
    } finally {
      this.inflight -= 1;
    }
  }

  arrived(rid, body) {
    this.results.set(rid, body);
    while (this.results.has(this.nextToDeliver)) {
      const next = this.results.get(this.nextToDeliver);
      this.results.delete(this.nextToDeliver);
      this.nextToDeliver += 1;
      this.deliver(next);
    }
    this.pump();
  }

  deliver(body) {
    if (!this.ended && body.getAttribute("type") === "terminate") {
      const error = child(body, "error", NS.STREAMS);
      for (const c of children(body)) if (c !== error) this.sink.receive(c);
      this.ended = true;
      this.sink.closed(error ? errorCondition(error) : body.getAttribute("condition") || "the session ended");
      return;
    }
    for (const c of children(body)) this.sink.receive(c);
  }

  fail(message) {
    if (this.ended) return;
    this.ended = true;
    this.sink.closed(message);
  }

  close() {
    if (this.ended || !this.sid) return;
    const payloads = this.queue.splice(0);
    this.ended = true;
    this.post({ sid: this.sid, type: "terminate" }, payloads).catch(() => {});
  }
}

// --- the client ---

/**
 * One connection to the server.
 *
 * Events (client.on(name, fn)): "stanza" (a message, presence or iq
 * element after login), "closed" (reason text).
 */
export class Client {
  constructor({ domain, websocketURL, boshURL }) {
    this.domain = domain;
    this.websocketURL = websocketURL;
    this.boshURL = boshURL;
    this.handlers = { stanza: [], closed: [] };
    this.pending = new Map();
    this.waiters = [];
    this.backlog = [];
    this.online = false;
    this.closedReason = null;
    this.nextId = 1;
    this.jid = null;
    this.transportName = null;
  }

  on(event, fn) {
    this.handlers[event].push(fn);
  }

  emit(event, value) {
    for (const fn of this.handlers[event]) fn(value);
  }

  // the element flow

  receive(element) {
    if (element.localName === "iq" && this.pending.has(element.getAttribute("id"))) {
      const type = element.getAttribute("type");
      if (type === "result" || type === "error") {
        const { resolve, reject } = this.pending.get(element.getAttribute("id"));
        this.pending.delete(element.getAttribute("id"));
        if (type === "result") resolve(element);
        else reject(new XMPPError(errorCondition(element), element));
        return;
      }
    }
    if (element.namespaceURI === NS.STREAMS && element.localName === "error") {
      this.closed(errorCondition(element));
      return;
    }
    if (this.online) this.emit("stanza", element);
    else if (this.waiters.length) this.waiters.shift().resolve(element);
    else this.backlog.push(element);
  }

  closed(reason) {
    if (this.closedReason !== null) return;
    this.closedReason = reason;
    this.online = false;
    const error = new XMPPError(reason);
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
    for (const { reject } of this.pending.values()) reject(error);
    this.pending.clear();
    this.emit("closed", reason);
  }

  /** The next first-level element during negotiation. */
  expect() {
    if (this.backlog.length) return Promise.resolve(this.backlog.shift());
    if (this.closedReason !== null) return Promise.reject(new XMPPError(this.closedReason));
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  async expectFeatures() {
    const element = await this.expect();
    if (element.namespaceURI !== NS.STREAMS || element.localName !== "features") {
      throw new XMPPError("expected stream features, got <" + element.localName + "/>");
    }
    return element;
  }

  send(node) {
    if (this.framing) this.framing.send(node);
  }

  /** Send an iq and wait for its result (rejects with the error condition). */
  iq(type, to, payload) {
    const id = "wc" + this.nextId++;
    const promise = new Promise((resolve, reject) => this.pending.set(id, { resolve, reject }));
    this.send(stanza("iq", { type, id, to }, payload));
    return promise;
  }

  // connecting

  async connect() {
    const tried = [];
    for (const [url, Framing] of [[this.websocketURL, WebSocketFraming], [this.boshURL, BoshFraming]]) {
      if (!url) continue;
      const framing = new Framing(url, this);
      try {
        this.framing = framing;
        await framing.open(this.domain);
        this.transportName = framing.name;
        return this.expectFeatures();
      } catch (e) {
        tried.push(framing.name + ": " + e.message);
      }
    }
    throw new XMPPError("cannot connect (" + tried.join("; ") + ")");
  }

  /** Connect, optionally register (XEP-0077), authenticate and bind. */
  async login(username, password, { register = false, resource = "webchat" } = {}) {
    let features = await this.connect();
    if (register) await this.register(username, password);
    await this.authenticate(features, username, password);
    this.framing.restart();
    features = await this.expectFeatures();
    await this.bind(features, resource);
    this.online = true;
    for (const element of this.backlog.splice(0)) this.emit("stanza", element);
    return this.jid;
  }

  async register(username, password) {
    const query = x("query", { xmlns: NS.REGISTER },
      x("username", {}, username), x("password", {}, password));
    try {
      await this.iq("set", undefined, query);
    } catch (e) {
      throw new XMPPError("registration failed: " + e.message);
    }
  }

  async authenticate(features, username, password) {
    const offered = children(child(features, "mechanisms", NS.SASL) || features, "mechanism")
      .map((m) => m.textContent.trim());
    const scram = scramAvailable() ? Object.keys(SCRAM).find((m) => offered.includes(m)) : null;
    if (scram) return this.scram(scram, username, password);
    if (offered.includes("PLAIN")) return this.plain(username, password);
    throw new XMPPError(offered.length
      ? "no usable login method (SCRAM needs a secure page; PLAIN needs an encrypted connection)"
      : "the server offers no login method on this connection (it needs encryption)");
  }

  async plain(username, password) {
    const message = encoder.encode("\0" + username + "\0" + password);
    this.send(x("auth", { xmlns: NS.SASL, mechanism: "PLAIN" }, toBase64(message)));
    await this.saslOutcome();
  }

  async scram(mechanism, username, password) {
    const { hash, bits } = SCRAM[mechanism];
    const nonce = randomBase64(18);
    const header = "n,,";
    const first = "n=" + saslName(username) + ",r=" + nonce;
    this.send(x("auth", { xmlns: NS.SASL, mechanism }, toBase64(encoder.encode(header + first))));
    const challenge = await this.expect();
    if (challenge.localName !== "challenge") throw saslFailure(challenge);
    const serverFirst = decoder.decode(fromBase64(challenge.textContent.trim()));
    const attrs = Object.fromEntries(serverFirst.split(",").map((p) => [p[0], p.slice(2)]));
    if (!attrs.r || !attrs.r.startsWith(nonce) || !attrs.s || !attrs.i) {
      throw new XMPPError("the server's SCRAM challenge is not valid");
    }
    const salted = await pbkdf2(password, fromBase64(attrs.s), Number(attrs.i), hash, bits);
    const withoutProof = "c=" + toBase64(encoder.encode(header)) + ",r=" + attrs.r;
    const authMessage = first + "," + serverFirst + "," + withoutProof;
    const clientKey = await hmac(salted, "Client Key", hash);
    const storedKey = new Uint8Array(await crypto.subtle.digest(hash, clientKey));
    const signature = await hmac(storedKey, authMessage, hash);
    const proof = clientKey.map((b, i) => b ^ signature[i]);
    const serverKey = await hmac(salted, "Server Key", hash);
    const expected = "v=" + toBase64(await hmac(serverKey, authMessage, hash));
    this.send(x("response", { xmlns: NS.SASL },
      toBase64(encoder.encode(withoutProof + ",p=" + toBase64(proof)))));
    const data = await this.saslOutcome();
    if (data !== expected) throw new XMPPError("the server could not prove it knows the password");
  }

  /** Wait for <success/> (returning its data) or fail. */
  async saslOutcome() {
    const outcome = await this.expect();
    if (outcome.localName !== "success") throw saslFailure(outcome);
    const text = outcome.textContent.trim();
    return text && text !== "=" ? decoder.decode(fromBase64(text)) : "";
  }

  async bind(features, resource) {
    if (!child(features, "bind", NS.BIND)) throw new XMPPError("the server offers no resource binding");
    const result = await this.iq("set", undefined, x("bind", { xmlns: NS.BIND }, x("resource", {}, resource)));
    this.jid = childText(child(result, "bind", NS.BIND), "jid", NS.BIND);
    const session = child(features, "session", NS.SESSION);
    if (session && !child(session, "optional")) {
      await this.iq("set", undefined, x("session", { xmlns: NS.SESSION }));
    }
  }

  /** Send unavailable presence and close the stream. */
  logout() {
    if (this.online) this.send(stanza("presence", { type: "unavailable" }));
    this.online = false;
    if (this.framing) this.framing.close();
    this.closed("logged out");
  }
}

export class XMPPError extends Error {
  constructor(message, element) {
    super(message);
    this.element = element || null;
  }
}

function saslFailure(element) {
  if (element.localName !== "failure") return new XMPPError("unexpected <" + element.localName + "/>");
  const condition = Array.from(element.children).find((c) => c.localName !== "text");
  const names = { "not-authorized": "wrong username or password" };
  const name = condition ? condition.localName : "failure";
  return new XMPPError("login failed: " + (names[name] || name));
}
