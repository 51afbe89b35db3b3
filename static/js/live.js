// Live prediction cards: one WebSocket to /ws/predictions (JWT in the `token` query parameter),
// subscribed to every symbol shown on the page ([data-symbol]); each `prediction_update`
// message rewrites that symbol's figures in place. Reconnects with backoff and a fresh token.
import { MODEL_TYPE_LABELS, age, direction, price, signedPct } from "./format.js";

const feed = document.querySelector("[data-live-feed]");
const announcer = document.querySelector("[data-live-announcer]");
const STALE_SECONDS = Number(feed?.dataset.staleSeconds || 600);
let socket = null;
let token = JSON.parse(document.getElementById("ws-token")?.textContent || '""');
let retry = 0;
let subscribed = new Set();
// The server closes with these when the account itself is gone or disabled (deleted, deactivated):
// no new token can help, so the page stops reconnecting and says so.
const ACCOUNT_ENDED = new Set(["user_not_found", "user_inactive"]);
let accountEnded = false;

function setStatus(text, state) {
  document.querySelectorAll("[data-live-status]").forEach((el) => {
    el.textContent = text;
    el.dataset.state = state;
  });
}

function symbolsOnPage() {
  return [...new Set([...document.querySelectorAll("[data-symbol]")].map((el) => el.dataset.symbol))];
}

function send(message) {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
}

// `subscribed` mirrors the server's list (each "subscribed"/"unsubscribed" reply carries it).
function syncSubscriptions() {
  const wanted = new Set(symbolsOnPage());
  const add = [...wanted].filter((s) => !subscribed.has(s));
  const drop = [...subscribed].filter((s) => !wanted.has(s));
  if (add.length) send({ action: "subscribe", symbols: add });
  if (drop.length) send({ action: "unsubscribe", symbols: drop });
}

function onLimit(error) {
  // The tier caps subscriptions per connection: follow as many symbols as it allows, in page
  // order, and say so.
  const room = Number(error.details?.limit ?? 0) - Number(error.details?.current ?? 0);
  const pending = symbolsOnPage().filter((s) => !subscribed.has(s));
  if (room > 0) send({ action: "subscribe", symbols: pending.slice(0, room) });
  setStatus(`Live for ${error.details?.limit ?? "some"} symbols (tier limit)`, "live");
}

function setField(root, name, text) {
  root.querySelectorAll(`[data-field="${name}"]`).forEach((el) => {
    el.textContent = text;
  });
}

function applyUpdate(msg) {
  const symbol = String(msg.symbol || "").toUpperCase();
  const targets = document.querySelectorAll(`[data-symbol="${CSS.escape(symbol)}"]`);
  if (!targets.length) return;
  const current = Number(msg.current_price);
  const p10Price = msg.p10 == null ? null : current * (1 + Number(msg.p10));
  const p90Price = msg.p90 == null ? null : current * (1 + Number(msg.p90));
  targets.forEach((root) => {
    setField(root, "predicted_return_1d", signedPct(msg.predicted_return_1d));
    root.querySelectorAll('[data-field="predicted_return_1d"]').forEach((el) => {
      el.classList.remove("up", "down", "flat");
      el.classList.add(direction(msg.predicted_return_1d));
    });
    setField(root, "predicted_price", price(msg.predicted_price));
    setField(root, "current_price", price(msg.current_price));
    setField(root, "p10_price", price(p10Price));
    setField(root, "p90_price", price(p90Price));
    setField(root, "p10", signedPct(msg.p10));
    setField(root, "p50", signedPct(msg.p50));
    setField(root, "p90", signedPct(msg.p90));
    setField(root, "model_type", MODEL_TYPE_LABELS[msg.model_type] || msg.model_type || "");
    root.querySelectorAll('[data-field="model_type"]').forEach((el) => {
      el.classList.toggle("badge-earnings", msg.model_type === "earnings_day");
    });
    setField(root, "model_version", msg.model_version || "");
    setField(root, "data_date", String(msg.data_timestamp || "").slice(0, 10));
    root.querySelectorAll('[data-field="predicted_at"]').forEach((el) => {
      el.dataset.time = msg.predicted_at || "";
    });
    const ood = msg.ood || {};
    root.querySelectorAll('[data-field="ood"]').forEach((el) => {
      el.hidden = ood.flagged !== true; // inputs unlike the training data (predictions.ood)
      el.title = ood.score == null ? "" : `Out-of-distribution score ${ood.score}`;
    });
    root.classList.remove("is-stale");
    root.querySelectorAll('[data-field="stale"]').forEach((el) => (el.hidden = true));
    root.dataset.updatedAt = String(Date.now());
    root.classList.remove("flash");
    void root.offsetWidth; // restart the highlight animation
    root.classList.add("flash");
  });
  refreshAges();
  refreshOverviewSoon();
  if (announcer) {
    announcer.textContent = `${symbol}: predicted ${signedPct(msg.predicted_return_1d)}, close ${price(msg.predicted_price)}`;
  }
}

// New predictions change the market overview too: refresh it (server-rendered, via htmx) once
// the burst of updates of one cycle is over.
let overviewTimer = null;
function refreshOverviewSoon() {
  const overview = document.getElementById("overview");
  if (!overview || !window.htmx) return;
  clearTimeout(overviewTimer);
  overviewTimer = setTimeout(() => window.htmx.trigger(overview, "refresh"), 1500);
}

function refreshAges() {
  const now = Date.now();
  document.querySelectorAll('[data-field="predicted_at"][data-time]').forEach((el) => {
    const t = Date.parse(el.dataset.time);
    if (Number.isNaN(t)) return;
    const seconds = (now - t) / 1000;
    el.textContent = `${age(seconds)} ago`;
    const stale = el.parentElement?.querySelector('[data-field="stale"]');
    if (stale) stale.hidden = seconds <= STALE_SECONDS;
  });
}

async function freshToken() {
  try {
    const response = await fetch(feed.dataset.tokenUrl, { credentials: "same-origin" });
    if (response.ok) token = (await response.json()).token;
  } catch (err) {
    /* keep the old token; the next retry asks again */
  }
}

function tokenExpiry(jwt) {
  try {
    const payload = JSON.parse(atob(jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
    return Number(payload.exp) * 1000;
  } catch (err) {
    return null;
  }
}

// Before the access token expires (the server then closes with 4401), fetch a new one and hand
// it to the open connection with {"action": "authenticate"}.
let renewTimer = null;
function scheduleRenewal() {
  clearTimeout(renewTimer);
  const expiry = tokenExpiry(token);
  if (!expiry) return;
  const delay = Math.max(expiry - Date.now() - 60000, 5000);
  renewTimer = setTimeout(async () => {
    await freshToken();
    send({ action: "authenticate", token });
    scheduleRenewal();
  }, delay);
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const url = `${scheme}//${location.host}${feed.dataset.wsPath}?token=${encodeURIComponent(token)}`;
  setStatus("Connecting…", "connecting");
  socket = new WebSocket(url);
  socket.addEventListener("open", () => {
    retry = 0;
    subscribed = new Set();
    syncSubscriptions();
    setStatus("Live", "live");
    scheduleRenewal();
  });
  socket.addEventListener("message", (event) => {
    let msg;
    try {
      msg = JSON.parse(event.data);
    } catch (err) {
      return;
    }
    if (msg.type === "prediction_update") applyUpdate(msg);
    else if (msg.type === "subscribed" || msg.type === "unsubscribed") {
      subscribed = new Set(msg.subscriptions || []);
      feed.dataset.subscribed = [...subscribed].sort().join(",");
    } else if (msg.type === "error" && msg.error?.code === "subscription_limit") onLimit(msg.error);
    else if (msg.type === "error" && ACCOUNT_ENDED.has(msg.error?.code)) accountEnded = true;
  });
  socket.addEventListener("close", async () => {
    if (accountEnded) {
      clearTimeout(renewTimer);
      setStatus("Signed out", "offline");
      return;
    }
    setStatus("Reconnecting…", "offline");
    retry += 1;
    const delay = Math.min(1000 * 2 ** Math.min(retry, 5), 30000);
    await new Promise((resolve) => setTimeout(resolve, delay));
    await freshToken();
    connect();
  });
}

if (feed && token) {
  document.body.addEventListener("htmx:afterSwap", () => {
    syncSubscriptions();
    if (socket && socket.readyState === WebSocket.OPEN) setStatus("Live", "live");
    refreshAges();
  });
  connect();
  setInterval(refreshAges, 10000);
}
