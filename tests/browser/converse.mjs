// Converse.js pages in headless Chromium (Debian's /usr/bin/chromium) driven
// by playwright-core, one command at a time, for tests/browser/test_converse.py:
// `node converse.mjs` reads one JSON command a line on stdin and answers each
// with one line `REPLY {"id", "value"}` or `REPLY {"id", "error"}` on stdout;
// progress goes to stderr.
//
// Converse.js comes from node_modules (the npm package `converse.js`, its
// dist/ folder) and is added to a page of the server, so that the page's
// origin is the server's own: Chromium's local network access rules would
// refuse a WebSocket to 127.0.0.1 from a page made up by request
// interception.  Its lazily loaded chunks are answered from dist/ too.
//
// Every page records the WebSocket frames it sends and gets, so a test can
// tell how the page loaded what it shows (a MAM query, or a room's join
// history).
//
// Commands (all take `page`, the name the test gives a page):
//   open       {base, service, jid, password, dist, settings, legacyOmemo}
//              a new browser context and page, Converse logged in (more of
//              its settings in `settings`; with `legacyOmemo` the page uses
//              OMEMO 0.3 only); value: the bound full JID
//   leave      {}  the page goes to about:blank: its WebSocket closes
//   reload     {}  the page loaded again (after `leave` too) with its storage
//              emptied first, a new session that remembers nothing; Converse
//              logged in again
//   openChat   {jid}  a one-to-one chat opened (and shown)
//   joinRoom   {jid, nick}  a room joined (and shown)
//   bookmark   {jid, name, nick, autojoin}  a room bookmarked (XEP-0402 or
//              XEP-0048, as Converse picks by the account's disco#info)
//   bookmarks  {}  the JIDs of the rooms the page has bookmarked
//   send       {jid, text}  typed into the open chat or room and sent
//   waitText   {jid, text}  until a message with this text is shown in the
//              chat or room
//   texts      {jid}  the message texts the chat or room shows
//   frames     {}  the WebSocket frames so far, as "OUT " or "IN " + one
//              XML element (RFC 7395 section 3.3.3), "RELOAD" between sessions
//   waitFrame  {pattern}  until a frame matches this regular expression
//   omemoReady {}  until OMEMO (XEP-0384) is initialised: the page's device
//              list and bundle published; value: its own device id
//   encryptChat {jid}  until Converse finds the contact's OMEMO devices for
//              the open chat, then the chat is switched to OMEMO
//   errors     {}  the page's uncaught exceptions
//   notes      {}  its console errors (mostly Converse reporting error replies)
//              and the requests that failed or were refused
//   screenshot {path}
//   close      {}
//   quit       (no page)

import { readFileSync } from "node:fs";
import { extname, join, normalize } from "node:path";
import { createInterface } from "node:readline";
import { chromium } from "playwright-core";

const STEP_TIMEOUT = 20000;
// OMEMO's start makes its keys in the page's JavaScript (an identity key, a
// signed prekey and a hundred prekeys) before it publishes them: CPU time a
// loaded machine (parallel test workers) may stretch past one UI step.  The
// test's own command timeout (conversepage.COMMAND_TIMEOUT, 60 s) stays above.
const OMEMO_TIMEOUT = 45000;
const started = Date.now();

function log(...args) {
  console.error(`[converse +${((Date.now() - started) / 1000).toFixed(1)}s]`, ...args);
}

const TYPES = {
  ".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css", ".json": "application/json",
  ".svg": "image/svg+xml", ".png": "image/png", ".woff": "font/woff", ".woff2": "font/woff2",
  ".ttf": "font/ttf", ".wasm": "application/wasm", ".mp3": "audio/mpeg", ".ogg": "audio/ogg",
  ".map": "application/json",
};

// Started by the test code on the page: a plugin hands the private API to
// the test (the public `converse` object exposes little), then Converse logs
// in on its own.
const CONVERSE_START = `
window.testState = { connected: false };
converse.plugins.add("jabberd-test", {
  initialize() {
    const _converse = this._converse;
    window.testConverse = _converse;
    _converse.api.listen.on("connected", () => { window.testState.connected = true; });
    _converse.api.listen.on("reconnected", () => { window.testState.connected = true; });
    _converse.api.listen.on("disconnected", () => { window.testState.connected = false; });
    if (window.testLegacyOmemo) {
      // A client of OMEMO 0.3 only (eu.siacs.conversations.axolotl): no
      // omemo:2 device list of its own, none of its contacts' looked up
      // (Converse takes a missing list as one with no devices).
      // Installed as OMEMO starts (its plugin is initialised after this one).
      _converse.api.listen.on("statusInitialized", () => {
        const lists = _converse.api.omemo.devicelists;
        const get = lists.get.bind(lists);
        lists.get = (jid, create, version) => version === converse.env.Strophe.NS.OMEMO2
          ? Promise.resolve(null) : get(jid, create, version);
      });
      _converse.api.listen.on("addClientFeatures", () => {
        const features = _converse.api.disco.own.features.get();
        const index = features.indexOf(converse.env.Strophe.NS.OMEMO2_DEVICELIST + "+notify");
        if (index >= 0) features.splice(index, 1);
      });
    }
  },
});
window.startConverse = function (settings) {
  return converse.initialize(Object.assign({
    whitelisted_plugins: ["jabberd-test"],
    view_mode: "fullscreen",
    authentication: "login",
    auto_login: true,
    auto_reconnect: false,
    discover_connection_methods: false,
    persistent_store: "sessionStorage",
    loglevel: "debug",
    i18n: "en",
    play_sounds: false,
    show_desktop_notifications: false,
    show_controlbox_by_default: true,
    enable_smacks: false,
    lazy_load_vcards: true,
    allow_non_roster_messaging: true,
    muc_instant_rooms: true,
  }, settings));
};
`;

let browser = null;
const pages = new Map();

async function getBrowser() {
  if (browser === null) {
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
      headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run",
        // Each page is in its own context; none of them may be throttled as
        // a background one.
        "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
        "--disable-backgrounding-occluded-windows"],
    });
  }
  return browser;
}

function serveDist(dist) {
  return async (route) => {
    const url = new URL(route.request().url());
    const relative = normalize(decodeURIComponent(url.pathname.replace(/^\/test\/converse\//, "")));
    if (relative.startsWith("..")) return route.fulfill({ status: 404, body: "" });
    try {
      const body = readFileSync(join(dist, relative));
      return route.fulfill({ status: 200, contentType: TYPES[extname(relative)] || "application/octet-stream", body });
    } catch (e) {
      return route.fulfill({ status: 404, body: "" });
    }
  };
}

function watch(entry) {
  const { page, name } = entry;
  page.on("pageerror", (e) => entry.errors.push(`${name}: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error") entry.notes.push(`console: ${m.text()}`);
  });
  page.on("requestfailed", (r) => entry.notes.push(`request failed: ${r.url()}`));
  page.on("websocket", (ws) => {
    ws.on("framesent", (frame) => entry.frames.push("OUT " + frame.payload));
    ws.on("framereceived", (frame) => entry.frames.push("IN " + frame.payload));
  });
}

async function start(entry) {
  const { page, args } = entry;
  await page.goto(args.base + "/http-bind");
  await page.evaluate(() => { sessionStorage.clear(); localStorage.clear(); document.body.textContent = ""; });
  await page.addStyleTag({ url: args.base + "/test/converse/converse.min.css" });
  await page.addScriptTag({ url: args.base + "/test/converse/converse.min.js", type: "module" });
  await page.waitForFunction(() => window.converse !== undefined, null, { timeout: STEP_TIMEOUT });
  await page.evaluate((legacy) => { window.testLegacyOmemo = legacy; }, !!args.legacyOmemo);
  await page.addScriptTag({ content: CONVERSE_START });
  await page.evaluate((settings) => { window.startConverse(settings); }, {
    ...(args.settings || {}),
    websocket_url: args.service, jid: args.jid, password: args.password,
    assets_path: args.base + "/test/converse/",
  });
  await page.waitForFunction(() => window.testState.connected, null, { timeout: STEP_TIMEOUT });
  return page.evaluate(() => window.testConverse.api.connection.get().jid);
}

function view(jid) {
  return `:is(converse-chat, converse-muc)[jid="${jid}"]`;
}

const commands = {
  async open(entry, args) {
    const context = await (await getBrowser()).newContext({ viewport: { width: 1180, height: 720 } });
    const page = await context.newPage();
    Object.assign(entry, { context, page, args, frames: [], errors: [], notes: [] });
    watch(entry);
    // Only the test server is reached: Converse's own links elsewhere
    // (sponsor logos on the login form) are refused and noted.
    await context.route((url) => !url.href.startsWith(args.base + "/"), (route) => {
      entry.notes.push(`refused: ${route.request().url()}`);
      return route.abort("blockedbyclient");
    });
    await context.route(args.base + "/test/converse/**", serveDist(args.dist));
    return start(entry);
  },

  async leave(entry) {
    await entry.page.goto("about:blank");
    return true;
  },

  async reload(entry) {
    entry.frames.push("RELOAD");
    return start(entry);
  },

  async openChat(entry, { jid }) {
    await entry.page.evaluate((jid) => window.testConverse.api.chats.open(jid, {}, true), jid);
    await entry.page.waitForSelector(view(jid) + " textarea.chat-textarea", { timeout: STEP_TIMEOUT });
    return true;
  },

  async joinRoom(entry, { jid, nick }) {
    await entry.page.evaluate(([jid, nick]) => window.testConverse.api.rooms.open(jid, { nick }, true), [jid, nick]);
    await entry.page.waitForSelector(view(jid) + " textarea.chat-textarea", { timeout: STEP_TIMEOUT });
    return true;
  },

  async bookmark(entry, attrs) {
    await entry.page.evaluate((attrs) => window.testConverse.api.bookmarks.set(attrs), attrs);
    return true;
  },

  async bookmarks(entry) {
    return entry.page.evaluate(async () => {
      await window.testConverse.api.waitUntil("bookmarksInitialized");
      return window.testConverse.state.bookmarks.map((b) => b.get("jid"));
    });
  },

  async send(entry, { jid, text }) {
    const textarea = entry.page.locator(view(jid) + " textarea.chat-textarea");
    await textarea.fill(text, { timeout: STEP_TIMEOUT });
    await textarea.press("Enter", { timeout: STEP_TIMEOUT });
    return true;
  },

  async waitText(entry, { jid, text }) {
    await entry.page.locator(view(jid) + " .chat-msg__text", { hasText: text }).first()
      .waitFor({ timeout: STEP_TIMEOUT });
    return true;
  },

  async texts(entry, { jid }) {
    return entry.page.locator(view(jid) + " .chat-msg__text").allInnerTexts();
  },

  async frames(entry) {
    return entry.frames;
  },

  async waitFrame(entry, { pattern }) {
    const expression = new RegExp(pattern);
    const deadline = Date.now() + STEP_TIMEOUT;
    while (Date.now() < deadline) {
      const frame = entry.frames.find((f) => expression.test(f));
      if (frame !== undefined) return frame;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`no frame matching ${pattern} within ${STEP_TIMEOUT} ms`);
  },

  async omemoReady(entry) {
    return entry.page.evaluate(async (timeout) => {
      const api = window.testConverse.api;
      await Promise.race([api.waitUntil("OMEMOInitialized"),
        new Promise((_, reject) => setTimeout(() => reject(new Error("OMEMO not initialised")), timeout))]);
      return window.testConverse.state.omemo_store.get("device_id");
    }, OMEMO_TIMEOUT);
  },

  async encryptChat(entry, { jid }) {
    const supported = (jid) => window.testConverse.state.chatboxes.get(jid)?.get("omemo_supported") === true;
    try {
      await entry.page.waitForFunction(supported, jid, { timeout: STEP_TIMEOUT / 4 });
    } catch (e) {
      // Converse looks once, when the chat opens; on a loaded machine that
      // look can lose a race with its own start-up.  Look again, as a chat
      // opened later would: the contact's device list read afresh.
      log(entry.name, "encryptChat: looking for the OMEMO devices of", jid, "again");
      await entry.page.evaluate(async (jid) => {
        const list = await window.testConverse.api.omemo.devicelists.get(jid, true);
        await list.fetchDevices(true);
        if (list.devices.length > 0) window.testConverse.state.chatboxes.get(jid).save({ omemo_supported: true });
      }, jid);
      await entry.page.waitForFunction(supported, jid, { timeout: STEP_TIMEOUT });
    }
    await entry.page.evaluate((jid) => window.testConverse.state.chatboxes.get(jid).save({ omemo_active: true }), jid);
    return true;
  },

  async errors(entry) {
    return entry.errors;
  },

  async notes(entry) {
    return entry.notes;
  },

  async screenshot(entry, { path }) {
    await entry.page.screenshot({ path });
    return path;
  },

  async close(entry) {
    pages.delete(entry.name);
    await entry.context.close();
    return true;
  },
};

async function perform(command) {
  if (command.cmd === "quit") {
    if (browser !== null) await browser.close();
    browser = null;
    return true;
  }
  const handler = commands[command.cmd];
  if (handler === undefined) throw new Error("unknown command " + command.cmd);
  let entry = pages.get(command.page);
  if (entry === undefined) {
    if (command.cmd !== "open") throw new Error("no page " + command.page);
    entry = { name: command.page };
    pages.set(command.page, entry);
  }
  log(command.page || "", command.cmd, JSON.stringify(command.args || {}).slice(0, 200));
  return handler(entry, command.args || {});
}

const input = createInterface({ input: process.stdin });
for await (const line of input) {
  if (!line.trim()) continue;
  const command = JSON.parse(line);
  let reply;
  try {
    reply = { id: command.id, value: await perform(command) };
  } catch (e) {
    reply = { id: command.id, error: e.stack || e.message };
  }
  console.log("REPLY " + JSON.stringify(reply));
  if (command.cmd === "quit") break;
}
if (browser !== null) await browser.close().catch(() => {});
process.exit(0);
