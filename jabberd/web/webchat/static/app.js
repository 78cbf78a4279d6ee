// The jabberd web chat page: login and registration, roster with presence
// and subscriptions (RFC 6121), private chat, and group chat rooms
// (XEP-0045).  All text from the network is shown with textContent.

import { Client, NS, bare, child, childText, children, errorCondition, resourceOf, stanza, x } from "./xmpp.js";

function setting(name) {
  const meta = document.querySelector(`meta[name="jabberd-${name}"]`);
  return meta ? meta.content : "";
}

const settings = {
  domain: setting("domain") || location.hostname,
  websocket: setting("websocket"),
  bosh: setting("bosh"),
  conference: setting("conference"),
  register: setting("register") === "yes", // a hint only: the server has the last word
};

const $ = (id) => document.getElementById(id);

let client = null;
let state = null;

function freshState(me, nick) {
  return {
    me, nick,
    roster: new Map(),        // bare JID -> {jid, name, subscription, ask}
    presence: new Map(),      // bare JID -> Map(resource -> show)
    requests: new Set(),      // bare JIDs asking to subscribe
    conversations: new Map(), // JID -> {jid, type, messages, unread, nick, occupants, joined}
    active: null,
  };
}

// --- small DOM helpers ---

function h(tag, props = {}, ...kids) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value);
  }
  for (const kid of kids.flat()) {
    if (kid !== null && kid !== undefined && kid !== false) node.append(kid);
  }
  return node;
}

function setStatus(text, info = false) {
  $("status").textContent = text;
  $("status").classList.toggle("info", info);
}

function showView(online) {
  $("login-view").hidden = online;
  $("chat-view").hidden = !online;
  $("me").hidden = !online;
  document.body.dataset.state = online ? "online" : "offline";
}

function fullJID(text) {
  const value = text.trim();
  return value.includes("@") ? value : value + "@" + settings.domain;
}

// --- logging in and out ---

function serviceURLs() {
  const forced = new URLSearchParams(location.search).get("transport");
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const websocketURL = settings.websocket && forced !== "bosh" ? scheme + "//" + location.host + settings.websocket : "";
  const boshURL = settings.bosh && forced !== "websocket" ? location.origin + settings.bosh : "";
  return { websocketURL, boshURL };
}

async function start(register) {
  const typed = $("username").value.trim();
  const password = $("password").value;
  if (!typed || !password) {
    setStatus("Enter a username and a password.");
    return;
  }
  const [username, domain] = typed.includes("@") ? typed.split("@", 2) : [typed, settings.domain];
  setBusy(true);
  setStatus(register ? "Creating the account…" : "Connecting…", true);
  client = new Client({ domain, ...serviceURLs() });
  client.on("stanza", onStanza);
  client.on("closed", onClosed);
  try {
    const jid = await client.login(username, password, { register });
    loggedIn(jid, username);
  } catch (e) {
    if (client) client.logout();
    client = null;
    setStatus(e.message);
  } finally {
    setBusy(false);
  }
}

function setBusy(busy) {
  $("login-button").disabled = busy;
  $("register-button").disabled = busy;
}

async function loggedIn(jid, username) {
  state = freshState(bare(jid), username);
  $("my-jid").textContent = jid;
  $("transport").textContent = client.transportName;
  $("password").value = "";
  setStatus("");
  showView(true);
  renderAll();
  try {
    const result = await client.iq("get", undefined, x("query", { xmlns: NS.ROSTER }));
    for (const item of children(child(result, "query", NS.ROSTER), "item")) updateRosterItem(item);
  } catch (e) {
    addSystemMessage(null, "Could not load contacts: " + e.message);
  }
  client.send(stanza("presence"));
  renderAll();
}

function logout() {
  if (client) {
    const old = client;
    client = null;
    old.logout();
  }
  state = null;
  showView(false);
  setStatus("Logged out.", true);
}

function onClosed(reason) {
  if (!client) return; // logged out on purpose, or never logged in
  const wasOnline = state !== null;
  client = null;
  state = null;
  showView(false);
  if (wasOnline) setStatus("Disconnected: " + reason);
}

// --- incoming stanzas ---

function onStanza(element) {
  if (!state) return;
  if (element.localName === "message") onMessage(element);
  else if (element.localName === "presence") onPresence(element);
  else if (element.localName === "iq") onIQ(element);
}

function onIQ(iq) {
  const type = iq.getAttribute("type");
  if (type !== "get" && type !== "set") return;
  const from = iq.getAttribute("from");
  const query = child(iq, "query", NS.ROSTER);
  const reply = { to: from || undefined, id: iq.getAttribute("id") };
  if (type === "set" && query && (!from || bare(from) === state.me)) {
    for (const item of children(query, "item")) updateRosterItem(item);
    client.send(stanza("iq", { ...reply, type: "result" }));
    renderRoster();
    return;
  }
  client.send(stanza("iq", { ...reply, type: "error" },
    x("error", { type: "cancel" }, x("service-unavailable", { xmlns: NS.STANZAS }))));
}

function updateRosterItem(item) {
  const jid = bare(item.getAttribute("jid"));
  if (item.getAttribute("subscription") === "remove") {
    state.roster.delete(jid);
    return;
  }
  state.roster.set(jid, {
    jid,
    name: item.getAttribute("name") || "",
    subscription: item.getAttribute("subscription") || "none",
    ask: item.getAttribute("ask") || "",
  });
}

function onPresence(presence) {
  const from = presence.getAttribute("from") || "";
  const jid = bare(from);
  const type = presence.getAttribute("type") || "available";
  const room = state.conversations.get(jid);
  if (room && room.type === "groupchat") {
    onRoomPresence(room, resourceOf(from), type, presence);
    return;
  }
  if (type === "subscribe") {
    state.requests.add(jid);
    renderRequests();
    return;
  }
  if (type !== "available" && type !== "unavailable") return;
  const resources = state.presence.get(jid) || new Map();
  if (type === "unavailable") resources.delete(resourceOf(from));
  else resources.set(resourceOf(from), childText(presence, "show") || "online");
  state.presence.set(jid, resources);
  renderRoster();
}

function onRoomPresence(room, nick, type, presence) {
  const user = child(presence, "x", NS.MUC_USER);
  const codes = user ? children(user, "status").map((s) => s.getAttribute("code")) : [];
  if (type === "error") {
    room.joined = false;
    addSystemMessage(room.jid, "Cannot join: " + errorCondition(presence));
    renderRooms();
    return;
  }
  if (type === "unavailable") {
    room.occupants.delete(nick);
    if (codes.includes("110")) room.joined = false;
    else addSystemMessage(room.jid, nick + " left");
  } else {
    const item = user ? child(user, "item") : null;
    const known = room.occupants.has(nick);
    room.occupants.set(nick, { role: item ? item.getAttribute("role") : "", affiliation: item ? item.getAttribute("affiliation") : "" });
    if (codes.includes("110")) {
      room.joined = true;
      room.nick = nick;
      if (codes.includes("201")) createInstantRoom(room);
    } else if (room.joined && !known) {
      addSystemMessage(room.jid, nick + " joined");
    }
  }
  renderRooms();
  if (state.active === room.jid) renderOccupants();
}

/** XEP-0045 section 10.1.2: accept the default configuration of a new room. */
function createInstantRoom(room) {
  client.iq("set", room.jid, x("query", { xmlns: NS.MUC_OWNER }, x("x", { xmlns: NS.DATA, type: "submit" })))
    .catch((e) => addSystemMessage(room.jid, "Could not create the room: " + e.message));
}

function onMessage(message) {
  const from = message.getAttribute("from") || "";
  const type = message.getAttribute("type") || "normal";
  const body = childText(message, "body");
  const jid = bare(from);
  if (type === "error") {
    addSystemMessage(state.conversations.has(jid) ? jid : null, "Not delivered to " + jid + ": " + errorCondition(message));
    return;
  }
  if (type === "groupchat") {
    const room = state.conversations.get(jid);
    if (!room) return;
    const subject = childText(message, "subject");
    if (subject !== null && body === null) {
      if (subject.trim()) addSystemMessage(jid, "Subject: " + subject);
      return;
    }
    const nick = resourceOf(from);
    if (body !== null) addMessage(room, { from: nick || jid, body, mine: nick === room.nick });
    return;
  }
  if (body === null) return;
  const conversation = conversationFor(jid, "chat");
  addMessage(conversation, { from: displayName(jid), body, mine: false });
}

// --- conversations ---

function conversationFor(jid, type) {
  let conversation = state.conversations.get(jid);
  if (!conversation) {
    conversation = { jid, type, messages: [], unread: 0, nick: null, occupants: new Map(), joined: false };
    state.conversations.set(jid, conversation);
  }
  return conversation;
}

function addMessage(conversation, message) {
  conversation.messages.push(message);
  if (state.active === conversation.jid) renderMessages();
  else {
    conversation.unread += 1;
    renderRoster();
    renderRooms();
  }
}

function addSystemMessage(jid, text) {
  if (!state) return;
  const target = jid || state.active;
  if (!target) {
    setStatus(text);
    return;
  }
  const conversation = state.conversations.get(target) || conversationFor(target, "chat");
  addMessage(conversation, { from: "", body: text, system: true });
}

function openConversation(jid, type) {
  const conversation = conversationFor(jid, type);
  conversation.unread = 0;
  state.active = jid;
  renderAll();
  $("compose-input").focus();
}

function displayName(jid) {
  const item = state.roster.get(jid);
  return item && item.name ? item.name : jid;
}

// --- actions ---

function sendMessage(event) {
  event.preventDefault();
  const input = $("compose-input");
  const text = input.value;
  const conversation = state && state.conversations.get(state.active);
  if (!text.trim() || !conversation) return;
  if (conversation.type === "groupchat") {
    // The room sends it back to every occupant, us included.
    client.send(stanza("message", { to: conversation.jid, type: "groupchat" }, x("body", {}, text)));
  } else {
    client.send(stanza("message", { to: conversation.jid, type: "chat" }, x("body", {}, text)));
    addMessage(conversation, { from: "me", body: text, mine: true });
  }
  input.value = "";
}

function addContact(event) {
  event.preventDefault();
  const jid = bare(fullJID($("add-contact-jid").value));
  if (!jid || jid === state.me) return;
  // RFC 6121 section 3.1: the server adds the contact to the roster and pushes it.
  client.send(stanza("presence", { to: jid, type: "subscribe" }));
  $("add-contact-jid").value = "";
}

function answerRequest(jid, accept) {
  state.requests.delete(jid);
  client.send(stanza("presence", { to: jid, type: accept ? "subscribed" : "unsubscribed" }));
  const item = state.roster.get(jid);
  const subscribed = item && (item.subscription === "to" || item.subscription === "both" || item.ask);
  if (accept && !subscribed) client.send(stanza("presence", { to: jid, type: "subscribe" }));
  renderRequests();
}

function joinRoom(event) {
  event.preventDefault();
  const name = $("room-name").value.trim();
  if (!name) return;
  const jid = (name.includes("@") ? name : name + "@" + settings.conference).toLowerCase();
  const nick = $("room-nick").value.trim() || state.nick;
  const room = conversationFor(jid, "groupchat");
  room.nick = nick;
  client.send(stanza("presence", { to: jid + "/" + nick },
    x("x", { xmlns: NS.MUC }, x("history", { maxstanzas: "20" }))));
  $("room-name").value = "";
  openConversation(jid, "groupchat");
}

function leaveRoom() {
  const room = state.conversations.get(state.active);
  if (!room || room.type !== "groupchat") return;
  client.send(stanza("presence", { to: room.jid + "/" + room.nick, type: "unavailable" }));
  state.conversations.delete(room.jid);
  state.active = null;
  renderAll();
}

// --- rendering ---

function renderAll() {
  renderRoster();
  renderRequests();
  renderRooms();
  renderConversation();
}

function presenceClass(jid) {
  const resources = state.presence.get(jid);
  if (!resources || !resources.size) return "";
  const shows = Array.from(resources.values());
  return shows.some((s) => s === "online" || s === "chat") ? "online" : "away";
}

function renderRoster() {
  if (!state) return;
  const list = $("roster");
  list.replaceChildren();
  const contacts = Array.from(state.roster.values()).sort((a, b) => displayName(a.jid).localeCompare(displayName(b.jid)));
  for (const item of contacts) {
    const conversation = state.conversations.get(item.jid);
    const status = presenceClass(item.jid);
    const detail = item.ask ? "request sent" : item.subscription === "none" || item.subscription === "from" ? "no presence" : status ? (status === "online" ? "online" : "away") : "offline";
    list.append(h("li", {
      class: "contact" + (state.active === item.jid ? " active" : ""),
      dataset: { jid: item.jid, presence: status || "offline" },
      onclick: () => openConversation(item.jid, "chat"),
    }, h("span", { class: "dot " + status }), h("span", { class: "name" }, displayName(item.jid)),
    h("span", { class: "detail" }, detail),
    conversation && conversation.unread ? h("span", { class: "unread" }, String(conversation.unread)) : null));
  }
  $("roster-empty").hidden = contacts.length > 0;
}

function renderRequests() {
  if (!state) return;
  const list = $("requests");
  list.replaceChildren();
  for (const jid of state.requests) {
    list.append(h("li", { class: "request", dataset: { jid } },
      h("span", { class: "name" }, jid + " wants to see your presence"),
      h("button", { type: "button", class: "accept", onclick: () => answerRequest(jid, true) }, "Accept"),
      h("button", { type: "button", class: "secondary decline", onclick: () => answerRequest(jid, false) }, "Decline")));
  }
}

function renderRooms() {
  if (!state) return;
  const list = $("rooms");
  list.replaceChildren();
  for (const room of state.conversations.values()) {
    if (room.type !== "groupchat") continue;
    list.append(h("li", {
      class: "room" + (state.active === room.jid ? " active" : ""),
      dataset: { jid: room.jid, joined: room.joined ? "yes" : "no" },
      onclick: () => openConversation(room.jid, "groupchat"),
    }, h("span", { class: "dot " + (room.joined ? "online" : "") }), h("span", { class: "name" }, room.jid.split("@")[0]),
    h("span", { class: "detail" }, room.occupants.size + " in room"),
    room.unread ? h("span", { class: "unread" }, String(room.unread)) : null));
  }
}

function renderConversation() {
  const conversation = state && state.active ? state.conversations.get(state.active) : null;
  $("no-conversation").hidden = Boolean(conversation);
  $("conversation").hidden = !conversation;
  $("occupants-panel").hidden = !conversation || conversation.type !== "groupchat";
  if (!conversation) return;
  $("conversation-title").textContent = conversation.type === "groupchat"
    ? "Room " + conversation.jid : "Chat with " + displayName(conversation.jid);
  $("conversation").dataset.jid = conversation.jid;
  renderMessages();
  renderOccupants();
}

function renderMessages() {
  const conversation = state.conversations.get(state.active);
  if (!conversation) return;
  const list = $("messages");
  list.replaceChildren(...conversation.messages.map((m) => h("li", {
    class: "message" + (m.mine ? " mine" : "") + (m.system ? " system" : ""),
  }, m.system ? null : h("span", { class: "from" }, m.from), h("span", { class: "body" }, m.body))));
  list.scrollTop = list.scrollHeight;
}

function renderOccupants() {
  const conversation = state.conversations.get(state.active);
  if (!conversation || conversation.type !== "groupchat") return;
  const list = $("occupants");
  list.replaceChildren(...Array.from(conversation.occupants.entries()).sort().map(([nick, info]) =>
    h("li", { class: "occupant", dataset: { nick } }, h("span", { class: "dot online" }),
      h("span", { class: "name" }, nick), h("span", { class: "detail" }, info.role || ""))));
}

// --- wiring ---

$("login-form").addEventListener("submit", (event) => {
  event.preventDefault();
  start(false);
});
$("register-button").addEventListener("click", () => start(true));
$("logout-button").addEventListener("click", logout);
$("compose-form").addEventListener("submit", sendMessage);
$("add-contact-form").addEventListener("submit", addContact);
$("join-room-form").addEventListener("submit", joinRoom);
$("leave-room-button").addEventListener("click", leaveRoom);
showView(false);
