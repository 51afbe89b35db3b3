// Number formatting for live updates: the same rules as web/templatetags/market_format.py.
export const MISSING = "\u2014";

function finite(value) {
  if (value === null || value === undefined || value === "" || typeof value === "boolean") return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

function grouped(n, decimals) {
  return n.toLocaleString("en-US", { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

function signed(n, decimals, suffix = "") {
  const text = grouped(Math.abs(n), decimals);
  if (Number(text.replace(/,/g, "")) === 0) return text + suffix;
  return (n > 0 ? "+" : "-") + text + suffix;
}

export function signedPct(value, decimals = 2) {
  const n = finite(value);
  return n === null ? MISSING : signed(n * 100, decimals, "%");
}

export function price(value) {
  const n = finite(value);
  if (n === null) return MISSING;
  const text = grouped(Math.abs(n), 2);
  return n < 0 && Number(text.replace(/,/g, "")) !== 0 ? "-" + text : text;
}

export function pct(value, decimals = 1) {
  const n = finite(value);
  return n === null ? MISSING : grouped(n * 100, decimals) + "%";
}

export function age(seconds) {
  const n = finite(seconds);
  if (n === null) return MISSING;
  const total = Math.max(Math.floor(n), 0);
  if (total < 60) return `${total} s`;
  const minutes = Math.floor(total / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  if (hours < 48) return rest ? `${hours} h ${rest} min` : `${hours} h`;
  return `${Math.floor(hours / 24)} d`;
}

export function direction(value) {
  const n = finite(value);
  if (n === null || Math.round(n * 10000) === 0) return "flat";
  return n > 0 ? "up" : "down";
}

export const MODEL_TYPE_LABELS = { normal_day: "Normal day", earnings_day: "Earnings day" };
