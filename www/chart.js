// A line chart as SVG built through the DOM (no innerHTML, no inline style: colours come from
// CSS classes). Values outside [yMin, yMax] are drawn at the edge; the page's table next to the
// chart gives every true value, and is the chart's text alternative.

const SVG = 'http://www.w3.org/2000/svg';
const W = 640;
const H = 320;
const PAD = { left: 44, right: 12, top: 10, bottom: 28 };

/** An SVG element with these attributes and, if given, this text. */
export function el(name, attrs, text) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text != null) e.textContent = text;
  return e;
}

/** Round, readable tick values covering [lo, hi]. */
function ticks(lo, hi, count) {
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) out.push(Number(v.toPrecision(6)));
  return out;
}

/**
 * series: [{ className, dashed, points: [[x, y], …] }]. yRange: [lo, hi] the visible window.
 * `format` writes a tick value (the page's language may want a decimal comma).
 */
export function renderLineChart(container, { series, xMax, yRange, xLabel, yLabel, format = String }) {
  const [y0, y1] = yRange;
  const sx = (x) => PAD.left + (x / xMax) * (W - PAD.left - PAD.right);
  const sy = (y) => PAD.top + (1 - (Math.min(y1, Math.max(y0, y)) - y0) / (y1 - y0)) * (H - PAD.top - PAD.bottom);
  const svg = el('svg', { viewBox: `0 0 ${W} ${H}`, class: 'line-chart', 'aria-hidden': 'true' });
  for (const v of ticks(y0, y1, 5)) {
    svg.append(el('line', { x1: PAD.left, x2: W - PAD.right, y1: sy(v), y2: sy(v), class: v === 0 ? 'axis zero' : 'grid' }));
    svg.append(el('text', { x: PAD.left - 6, y: sy(v) + 4, class: 'tick', 'text-anchor': 'end' }, format(v)));
  }
  for (const v of ticks(0, xMax, 5)) {
    svg.append(el('text', { x: sx(v), y: H - PAD.bottom + 16, class: 'tick', 'text-anchor': 'middle' }, format(v)));
  }
  svg.append(el('line', { x1: PAD.left, x2: PAD.left, y1: PAD.top, y2: H - PAD.bottom, class: 'axis' }));
  svg.append(el('text', { x: W - PAD.right, y: H - 2, class: 'tick', 'text-anchor': 'end' }, xLabel));
  svg.append(el('text', { x: 4, y: PAD.top + 2, class: 'tick', 'text-anchor': 'start', 'dominant-baseline': 'hanging' }, yLabel));
  for (const s of series) {
    if (s.points.length === 0) continue;
    const pts = s.points.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ');
    svg.append(el('polyline', { points: pts, class: `series ${s.className}${s.dashed ? ' dashed' : ''}` }));
  }
  container.replaceChildren(svg);
}
