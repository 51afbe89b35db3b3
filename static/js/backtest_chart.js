// Backtest page: equity curves (growth of 1, after costs) of each strategy and the S&P 500.
import { COLORS, lib, makeChart, readJson } from "./charts.js";

const curves = readJson("backtest-curves") || {};
const PALETTE = {
  long_short_decile: COLORS.predicted,
  long_only_top_decile: COLORS.up,
  long_short_inverse_width: COLORS.band,
  sp500_buy_and_hold: COLORS.realised,
};

function draw(container) {
  const found = curves[container.dataset.backtestChart];
  if (!found) return;
  const LC = lib();
  const chart = makeChart(container);
  for (const [name, points] of Object.entries(found.series)) {
    if (!points.length) continue;
    const s = chart.addSeries(LC.LineSeries, {
      color: PALETTE[name] || COLORS.naive,
      lineWidth: name === "sp500_buy_and_hold" ? 1 : 2,
      priceFormat: { type: "price", precision: 2, minMove: 0.01 },
      priceLineVisible: false,
      lastValueVisible: true,
      title: found.labels[name] || name,
    });
    s.setData(points);
  }
  chart.timeScale().fitContent();
  container.dataset.drawn = "true";
}

document.querySelectorAll("[data-backtest-chart]").forEach(draw);
