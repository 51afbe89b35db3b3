// Symbol page charts: candles + volume with the predicted next-day range (and the 5- and
// 20-trading-day ranges when the prediction has them), and the symbol's
// history of predicted vs realised returns with the rolling MAE.
import { COLORS, lib, makeChart, percentFormat, readJson } from "./charts.js";

const VISIBLE_BARS = 130;
const HORIZON_COLOR = "#0d9488";
const HORIZON_FILL = "rgba(13, 148, 136, 0.16)";

function priceChart() {
  const container = document.getElementById("price-chart");
  const bars = readJson("bars-data") || [];
  if (!container || !bars.length) return;
  const LC = lib();
  const chart = makeChart(container);
  const candles = chart.addSeries(LC.CandlestickSeries, {
    upColor: COLORS.up,
    downColor: COLORS.down,
    borderUpColor: COLORS.up,
    borderDownColor: COLORS.down,
    wickUpColor: COLORS.up,
    wickDownColor: COLORS.down,
    priceFormat: { type: "price", precision: 2, minMove: 0.01 },
  });
  candles.setData(bars.map(({ time, open, high, low, close }) => ({ time, open, high, low, close })));

  const volume = chart.addSeries(
    LC.HistogramSeries,
    { priceFormat: { type: "volume" }, priceLineVisible: false, lastValueVisible: false },
    1,
  );
  volume.setData(
    bars.map((b) => ({
      time: b.time,
      value: b.volume,
      color: b.close >= b.open ? "rgba(10, 122, 61, 0.45)" : "rgba(192, 38, 45, 0.45)",
    })),
  );
  const panes = chart.panes();
  if (panes.length > 1) {
    panes[0].setStretchFactor(3);
    panes[1].setStretchFactor(1);
  }

  const band = readJson("band-data");
  const lastTime = bars[bars.length - 1].time;
  if (band && band.p10 !== null && band.p90 !== null && band.time > lastTime) {
    // The predicted range as one bar at the target day: low = p10, high = p90, from the last
    // close to the predicted close; plus a dashed path from the last close to the prediction.
    const range = drawForecastRange(chart, bars, band, {
      line: COLORS.band,
      fill: COLORS.bandFill,
      width: 2,
    });
    for (const [value, title] of [
      [band.p90, "p90"],
      [band.predicted, "predicted"],
      [band.p10, "p10"],
    ]) {
      range.createPriceLine({
        price: value,
        color: COLORS.band,
        lineWidth: 1,
        lineStyle: title === "predicted" ? LC.LineStyle.Solid : LC.LineStyle.Dotted,
        axisLabelVisible: true,
        title,
      });
    }
  }
  // The longer horizons (5 and 20 trading days): the same range bar and dashed path at each
  // target day, in their own colour.
  const horizons = (readJson("horizon-bands-data") || []).filter(
    (h) => h.p10 !== null && h.p90 !== null && h.predicted !== null && h.time > lastTime,
  );
  for (const h of horizons) {
    drawForecastRange(chart, bars, h, {
      line: HORIZON_COLOR,
      fill: HORIZON_FILL,
      width: 1,
      title: `${h.horizon}d`,
    });
  }
  // The last ~6 months plus a little room on the right, so the predicted range is readable;
  // older bars are a scroll or pinch away.
  const future = new Set(horizons.map((h) => h.time));
  if (band && band.time > lastTime) future.add(band.time);
  const slots = bars.length + future.size;
  chart.timeScale().setVisibleLogicalRange({ from: Math.max(slots - VISIBLE_BARS, 0) - 0.5, to: slots + 2.5 });
  container.dataset.horizons = String(horizons.length);
  container.dataset.drawn = "true";
}

function historyChart() {
  const container = document.getElementById("history-chart");
  const points = readJson("history-data") || [];
  if (!container || !points.length) return;
  const LC = lib();
  const chart = makeChart(container);
  const line = (color, width, data, title) => {
    const s = chart.addSeries(LC.LineSeries, {
      color,
      lineWidth: width,
      priceFormat: percentFormat,
      priceLineVisible: false,
      lastValueVisible: false,
      title,
    });
    s.setData(data);
    return s;
  };
  line(COLORS.realised, 1, points.map((p) => ({ time: p.time, value: p.realised })), "realised");
  line(COLORS.predicted, 2, points.map((p) => ({ time: p.time, value: p.predicted })), "predicted");
  line(COLORS.mae, 2, points.map((p) => ({ time: p.time, value: p.rolling_mae })), "MAE 20");
  chart.timeScale().fitContent();
  container.dataset.drawn = "true";
}

priceChart();
historyChart();

// One forecast drawn at its target day: a candle from the last close to the predicted close
// with p10/p90 as its wicks, and a dashed path from the last close to the prediction. Returns
// the candle series (the one-day forecast hangs its price lines on it).
function drawForecastRange(chart, bars, item, style) {
  const LC = lib();
  const last = bars[bars.length - 1];
  const range = chart.addSeries(LC.CandlestickSeries, {
    upColor: style.fill,
    downColor: style.fill,
    borderUpColor: style.line,
    borderDownColor: style.line,
    wickUpColor: style.line,
    wickDownColor: style.line,
    priceLineVisible: false,
    lastValueVisible: false,
    ...(style.title ? { title: style.title } : {}),
  });
  range.setData([
    { time: item.time, open: item.current, close: item.predicted, high: item.p90, low: item.p10 },
  ]);
  const path = chart.addSeries(LC.LineSeries, {
    color: style.line,
    lineWidth: style.width,
    lineStyle: LC.LineStyle.Dashed,
    priceLineVisible: false,
    lastValueVisible: false,
    crosshairMarkerVisible: false,
  });
  path.setData([
    { time: last.time, value: last.close },
    { time: item.time, value: item.predicted },
  ]);
  return range;
}
