// Accuracy page: per model kind, rolling MAE vs naive, rolling coverage, daily rank IC.
import { COLORS, lib, makeChart, percentFormat, readJson, rolling } from "./charts.js";

const WINDOW = 20;
const series = readJson("accuracy-series") || {};

function draw(container) {
  const points = series[container.dataset.kind] || [];
  if (!points.length) return;
  const LC = lib();
  const chart = makeChart(container);
  const add = (color, width, data, title, format = percentFormat) => {
    const s = chart.addSeries(LC.LineSeries, {
      color,
      lineWidth: width,
      priceFormat: format,
      priceLineVisible: false,
      lastValueVisible: false,
      title,
    });
    s.setData(data);
    return s;
  };
  const plain = { type: "price", precision: 3, minMove: 0.001 };
  const what = container.dataset.accuracyChart;
  if (what === "mae") {
    add(COLORS.predicted, 2, rolling(points, "mae", WINDOW), "model");
    add(COLORS.naive, 2, rolling(points, "mae_naive", WINDOW), "naive");
  } else if (what === "coverage") {
    // Trailing 20-day coverage (all outcomes of the window pooled, computed by the server).
    const trailing = points
      .filter((p) => p.coverage_20d != null)
      .map((p) => ({ time: p.time, value: p.coverage_20d }));
    const s = add(COLORS.band, 2, trailing, "coverage", {
      type: "custom",
      minMove: 0.001,
      formatter: (v) => `${(v * 100).toFixed(1)}%`,
    });
    s.createPriceLine({ price: 0.8, color: COLORS.naive, lineStyle: LC.LineStyle.Dashed, title: "target 80%" });
    // The 75-85% band the trailing coverage should stay in.
    for (const [price, title] of [[0.85, "85%"], [0.75, "75%"]]) {
      s.createPriceLine({ price, color: COLORS.band, lineStyle: LC.LineStyle.Dotted, lineWidth: 1, title });
    }
  } else if (what === "rank_ic") {
    const daily = points.filter((p) => p.rank_ic !== null).map((p) => ({ time: p.time, value: p.rank_ic }));
    add("rgba(29, 78, 216, 0.35)", 1, daily, "daily", plain);
    const s = add(COLORS.predicted, 2, rolling(points, "rank_ic", WINDOW), "20-day mean", plain);
    s.createPriceLine({ price: 0, color: COLORS.naive, lineStyle: LC.LineStyle.Dashed, title: "" });
  }
  chart.timeScale().fitContent();
  container.dataset.drawn = "true";
}

document.querySelectorAll("[data-accuracy-chart]").forEach(draw);

// Walk-forward: one point per test year, the model against its baselines.
const walkforward = readJson("walkforward-series") || {};
const WF_COLORS = ["#1d4ed8", "#9ca3af", "#d97706", "#059669"];
const WF_LEVEL = { rank_ic: 0, mae_ratio: 1, coverage: 0.8 };

function drawWalkforward(container) {
  const lines = (walkforward[container.dataset.kind] || {})[container.dataset.walkforwardChart] || {};
  const LC = lib();
  const chart = makeChart(container);
  const format = { type: "price", precision: 3, minMove: 0.001 };
  let first = null;
  Object.entries(lines).forEach(([title, data], i) => {
    if (!data.length) return;
    const s = chart.addSeries(LC.LineSeries, {
      color: WF_COLORS[i % WF_COLORS.length], lineWidth: 2, priceFormat: format,
      priceLineVisible: false, lastValueVisible: false, title, pointMarkersVisible: true,
    });
    s.setData(data);
    first = first || s;
  });
  if (first) {
    const level = WF_LEVEL[container.dataset.walkforwardChart];
    first.createPriceLine({ price: level, color: COLORS.naive, lineStyle: LC.LineStyle.Dashed, title: "" });
  }
  chart.timeScale().fitContent();
  container.dataset.drawn = "true";
}

document.querySelectorAll("[data-walkforward-chart]").forEach(drawWalkforward);
