// Drives headless Chromium (Debian's /usr/bin/chromium) with playwright-core
// for the browser tests: `node driver.mjs SCENARIO JSON-ARGS`.  Progress goes
// to stderr; the last stdout line is `RESULT {json}`.
//
// Scenarios:
//   strophe  - a page of the server (args.page) gets Strophe.js from
//              node_modules and the test code; it logs in over BOSH or
//              WebSocket, sends a chat message to a TCP client and waits for
//              its answer.
//   webchat  - two pages of the server's own web chat: one logs in over
//              WebSocket, the other registers an account over BOSH; they
//              subscribe to each other, chat privately and in a room, take
//              screenshots and log out.

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const STEP_TIMEOUT = 15000;

const started = Date.now();

function log(...args) {
  console.error(`[driver +${((Date.now() - started) / 1000).toFixed(1)}s]`, ...args);
}

async function launch() {
  const profile = mkdtempSync(join(tmpdir(), "jabberd-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--no-first-run"],
    viewport: { width: 1180, height: 720 },
  });
  return { context, cleanup: async () => { await context.close(); rmSync(profile, { recursive: true, force: true }); } };
}

function watch(page, name, problems) {
  page.on("pageerror", (e) => problems.push(`${name}: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`${name} console: ${m.text()}`);
  });
}

// --- Strophe.js over BOSH or WebSocket ---

// The test code, added to a page of the server (so the document's origin and
// address space are the server's own: Chromium's local network access rules
// would refuse a WebSocket from a page made up by request interception).
const STROPHE_TEST = `
window.testState = { status: [], received: [] };
window.runTest = function (service, jid, password, peer) {
  const conn = new Strophe.Connection(service);
  window.conn = conn;
  window.testState.traffic = [];
  conn.rawInput = (data) => window.testState.traffic.push("IN " + data);
  conn.rawOutput = (data) => window.testState.traffic.push("OUT " + data);
  conn.connect(jid, password, (status, condition) => {
    window.testState.status.push(status + (condition ? ":" + condition : ""));
    if (status === Strophe.Status.CONNECTED) {
      window.testState.jid = conn.jid;
      conn.addHandler((message) => {
        const body = message.getElementsByTagName("body")[0];
        window.testState.received.push({ from: message.getAttribute("from"), body: body ? body.textContent : null });
        return true;
      }, null, "message", null, null, null);
      conn.send($pres());
      conn.send($msg({ to: peer, type: "chat" }).c("body").t("hello from strophe"));
      window.testState.sent = true;
      document.body.textContent = "connected as " + conn.jid;
    } else if (status === Strophe.Status.AUTHFAIL || status === Strophe.Status.CONNFAIL) {
      window.testState.failed = status + ":" + condition;
    }
  });
};
`;

async function strophe(args) {
  const { context, cleanup } = await launch();
  const problems = [];
  try {
    const page = await context.newPage();
    watch(page, "strophe", problems);
    const stropheSource = readFileSync(args.strophe, "utf-8");
    // Strophe.js comes from node_modules, under the server's origin.
    await page.route(args.base + "/test/strophe.js",
      (route) => route.fulfill({ contentType: "text/javascript", body: stropheSource }));
    await page.goto(args.base + args.page);
    await page.addScriptTag({ url: args.base + "/test/strophe.js" });
    await page.addScriptTag({ content: STROPHE_TEST });
    await page.evaluate(([s, j, p, peer]) => runTest(s, j, p, peer),
      [args.service, args.jid, args.password, args.peer]);
    await page.waitForFunction(() => window.testState.jid || window.testState.failed, null, { timeout: STEP_TIMEOUT });
    await page.waitForFunction(() => window.testState.failed || window.testState.received.some((m) => m.body),
      null, { timeout: STEP_TIMEOUT });
    const state = await page.evaluate(() => window.testState);
    if (args.screenshot) await page.screenshot({ path: args.screenshot });
    await page.evaluate(() => window.conn.disconnect());
    await page.waitForFunction(() => window.testState.status.includes(String(Strophe.Status.DISCONNECTED)),
      null, { timeout: STEP_TIMEOUT });
    return { ...state, transport: args.service.startsWith("ws") ? "websocket" : "bosh", problems };
  } finally {
    await cleanup();
  }
}

// --- the web chat page ---

async function login(page, base, user, { register = false, transport = "" } = {}) {
  await page.goto(base + "/" + (transport ? "?transport=" + transport : ""));
  await page.fill("#username", user.username);
  await page.fill("#password", user.password);
  await page.click(register ? "#register-button" : "#login-button");
  await page.waitForSelector("body[data-state=online]", { timeout: STEP_TIMEOUT });
  return (await page.textContent("#transport")).trim();
}

async function openAndSend(page, selector, text) {
  await page.click(selector);
  await page.fill("#compose-input", text);
  await page.click("#send-button");
}

function messageWith(text) {
  return `#messages .message:not(.mine) .body:text-is("${text}")`;
}

async function webchat(args) {
  // Two browsers, one per user: a page in a background tab gets no animation
  // frames, which slows every check playwright makes on it.
  const browsers = await Promise.all([launch(), launch()]);
  const problems = [];
  const result = { steps: [], problems, screenshots: [] };
  const step = (name) => { result.steps.push(name); log(name); };
  try {
    const [a, b] = await Promise.all(browsers.map(({ context }) => context.newPage()));
    watch(a, "A", problems);
    watch(b, "B", problems);
    const jidA = args.userA.username + "@" + args.domain;
    const jidB = args.userB.username + "@" + args.domain;

    await a.goto(args.base + "/");
    await a.fill("#username", args.userA.username);
    await a.fill("#password", "not-the-password");
    await a.click("#login-button");
    await a.waitForSelector("#status:has-text('wrong username or password')", { timeout: STEP_TIMEOUT });
    step("A refused with a wrong password");
    result.transportA = await login(a, args.base, args.userA, { transport: "websocket" });
    step("A logged in");
    result.transportB = await login(b, args.base, args.userB, { register: true, transport: "bosh" });
    step("B registered and logged in");

    // Subscriptions both ways (RFC 6121 section 3).
    await a.fill("#add-contact-jid", jidB);
    await a.click("#add-contact-button");
    await b.waitForSelector(`.request[data-jid="${jidA}"]`, { timeout: STEP_TIMEOUT });
    result.screenshots.push(await shot(b, args.screenshots, "webchat-B-request.png"));
    await b.click(`.request[data-jid="${jidA}"] .accept`, { timeout: STEP_TIMEOUT });
    step("B accepted A");
    await a.click(`.request[data-jid="${jidB}"] .accept`, { timeout: STEP_TIMEOUT });
    step("A accepted B");
    await a.waitForSelector(`.contact[data-jid="${jidB}"][data-presence=online]`, { timeout: STEP_TIMEOUT });
    await b.waitForSelector(`.contact[data-jid="${jidA}"][data-presence=online]`, { timeout: STEP_TIMEOUT });
    step("both see each other online");

    // Private chat.
    await openAndSend(a, `.contact[data-jid="${jidB}"]`, "Hi B, this is A");
    await b.waitForSelector(`.contact[data-jid="${jidA}"] .unread`, { timeout: STEP_TIMEOUT });
    await openAndSend(b, `.contact[data-jid="${jidA}"]`, "Hello A, B here");
    await b.waitForSelector(messageWith("Hi B, this is A"), { timeout: STEP_TIMEOUT });
    await a.waitForSelector(messageWith("Hello A, B here"), { timeout: STEP_TIMEOUT });
    step("private chat both ways");
    result.screenshots.push(await shot(a, args.screenshots, "webchat-A-private.png"));

    // A group chat room (XEP-0045).
    await a.fill("#room-name", args.room);
    await a.click("#join-room-button");
    await a.waitForSelector(`.room[data-joined=yes]`, { timeout: STEP_TIMEOUT });
    await b.fill("#room-name", args.room);
    await b.click("#join-room-button");
    await b.waitForSelector(`.room[data-joined=yes]`, { timeout: STEP_TIMEOUT });
    for (const page of [a, b]) {
      for (const nick of [args.userA.username, args.userB.username]) {
        await page.waitForSelector(`#occupants .occupant[data-nick="${nick}"]`, { timeout: STEP_TIMEOUT });
      }
    }
    step("both in the room and see each other");
    await a.fill("#compose-input", "Hello room from A");
    await a.click("#send-button");
    await b.waitForSelector(messageWith("Hello room from A"), { timeout: STEP_TIMEOUT });
    await b.fill("#compose-input", "B says hi to the room");
    await b.click("#send-button");
    await a.waitForSelector(messageWith("B says hi to the room"), { timeout: STEP_TIMEOUT });
    await a.waitForSelector(`#messages .message.mine .body:text-is("Hello room from A")`, { timeout: STEP_TIMEOUT });
    step("room chat both ways");
    result.screenshots.push(await shot(a, args.screenshots, "webchat-A-room.png"));
    result.screenshots.push(await shot(b, args.screenshots, "webchat-B-room.png"));

    for (const page of [a, b]) {
      await page.click("#logout-button");
      await page.waitForSelector("body[data-state=offline]", { timeout: STEP_TIMEOUT });
    }
    step("both logged out");
    result.screenshots.push(await shot(a, args.screenshots, "webchat-logged-out.png"));
    return result;
  } catch (e) {
    result.error = e.message;
    return result;
  } finally {
    await Promise.all(browsers.map(({ cleanup }) => cleanup()));
  }
}

async function shot(page, directory, name) {
  const path = join(directory, name);
  await page.screenshot({ path });
  return path;
}

const scenarios = { strophe, webchat };
const [scenario, rawArgs] = process.argv.slice(2);
try {
  const result = await scenarios[scenario](JSON.parse(rawArgs));
  console.log("RESULT " + JSON.stringify(result));
} catch (e) {
  console.log("RESULT " + JSON.stringify({ error: e.stack || e.message }));
}
