// Shared chart setup (TradingView lightweight-charts, loaded as the global LightweightCharts).
export const COLORS = {
  up: "#0a7a3d",
  down: "#c0262d",
  text: "#1f2933",
  grid: "#e6e9ee",
  band: "#5b3cc4",
  bandFill: "rgba(91, 60, 196, 0.18)",
  predicted: "#1d4ed8",
  realised: "#1f2933",
  mae: "#b45309",
  naive: "#6b7280",
};

export function lib() {
  return window.LightweightCharts;
}

export function makeChart(container, extra = {}) {
  const LC = lib();
  return LC.createChart(container, {
    autoSize: true,
    layout: {
      background: { type: "solid", color: "#ffffff" },
      textColor: COLORS.text,
      fontFamily: "system-ui, -apple-system, Segoe UI, Roboto, sans-serif",
      attributionLogo: true,
    },
    grid: { vertLines: { color: COLORS.grid }, horzLines: { color: COLORS.grid } },
    rightPriceScale: { borderColor: COLORS.grid },
    timeScale: { borderColor: COLORS.grid },
    localization: { locale: "en-US" },
    ...extra,
  });
}

// Values in return units (0.0123) shown as signed percentages on the axis and crosshair.
export const percentFormat = {
  type: "custom",
  minMove: 0.0001,
  formatter: (v) => `${v > 0 ? "+" : ""}${(v * 100).toFixed(2)}%`,
};

export function readJson(id) {
  const el = document.getElementById(id);
  return el ? JSON.parse(el.textContent) : null;
}

export function rolling(points, key, window) {
  const out = [];
  const buf = [];
  for (const p of points) {
    if (p[key] === null || p[key] === undefined) continue;
    buf.push(p[key]);
    if (buf.length > window) buf.shift();
    out.push({ time: p.time, value: buf.reduce((a, b) => a + b, 0) / buf.length });
  }
  return out;
}
