// The card "Calibration: the other temperature": the loaded model's next-token predictions on a
// held-out scene, in a reliability diagram before and after the temperature that calibrates
// them. The worker runs `calibration` when the student asks (never on page load); every
// figure, and which sentence holds, comes from the wasm; this file lays them out.

import { t, fixed, integer, errorNode, fillNodes } from './i18n.js';
import { announce } from './announce.js';
import { el } from './chart.js';

const $ = (id) => document.getElementById(id);
const W = 300;
const H = 260;
const PAD = { left: 34, right: 8, top: 8, bottom: 34 };


/** The sentence on the measured half, by which of ECE and NLL moved which way (the wasm decides). */
const MEASURED = {
  eceDownNllDown: 'calibration.eceDownNllDown', eceDownNllUp: 'calibration.eceDownNllUp',
  eceUpNllDown: 'calibration.eceUpNllDown', eceUpNllUp: 'calibration.eceUpNllUp', unmoved: 'calibration.unmoved',
};
/** The sentence on the fitting half, by what the fitted T says (the wasm decides). */
const CONFIDENCE = {
  overconfident: 'calibration.over', underconfident: 'calibration.under', calibrated: 'calibration.calibrated',
  overBeyond: 'calibration.overBeyond', underBeyond: 'calibration.underBeyond', flat: 'calibration.flat',
};

/**
 * A reliability diagram: each non-empty bin's accuracy as a bar, its mean confidence as an
 * outline, the diagonal where the two agree. `label`: the SVG's accessible name.
 */
function diagram(container, bins, label) {
  const svg = el('svg', { viewBox: `0 0 ${W} ${H}`, class: 'reliability-chart', role: 'img', 'aria-label': label });
  const [x0, x1, y0, y1] = [PAD.left, W - PAD.right, H - PAD.bottom, PAD.top];
  const sx = (v) => x0 + v * (x1 - x0);
  const sy = (v) => y0 + v * (y1 - y0);
  for (const v of [0, 0.5, 1]) {
    svg.append(el('line', { x1: x0, x2: x1, y1: sy(v), y2: sy(v), class: 'grid' }));
    svg.append(el('text', { x: x0 - 4, y: sy(v) + 4, class: 'tick', 'text-anchor': 'end' }, fixed(v, 1)));
    svg.append(el('text', { x: sx(v), y: y0 + 14, class: 'tick', 'text-anchor': 'middle' }, fixed(v, 1)));
  }
  const w = 1 / bins.length;
  bins.forEach((b, i) => {
    if (b.count === 0) return;
    const [left, right] = [sx(i * w) + 0.5, sx((i + 1) * w) - 0.5];
    svg.append(el('rect', { x: left, width: right - left, y: sy(b.accuracy), height: y0 - sy(b.accuracy), class: 'rel-bar' }));
    const [lo, hi] = [Math.min(b.accuracy, b.confidence), Math.max(b.accuracy, b.confidence)];
    svg.append(el('rect', { x: left, width: right - left, y: sy(hi), height: sy(lo) - sy(hi), class: 'rel-gap' }));
  });
  svg.append(el('line', { x1: sx(0), y1: sy(0), x2: sx(1), y2: sy(1), class: 'rel-diagonal' }));
  svg.append(el('line', { x1: x0, x2: x0, y1: y0, y2: y1, class: 'axis' }));
  svg.append(el('line', { x1: x0, x2: x1, y1: y0, y2: y0, class: 'axis' }));
  svg.append(el('text', { x: x1, y: H - 4, class: 'tick', 'text-anchor': 'end' }, t('calibration.axisConfidence')));
  svg.append(el('text', { x: x0 + 4, y: y1 + 10, class: 'tick', 'text-anchor': 'start' }, t('calibration.axisAccuracy')));
  container.replaceChildren(svg);
}

/** Every bin of both diagrams, as the table screen readers read. */
function binTable(r, tAfter) {
  const cell = (tag, text, attrs = {}) => {
    const c = document.createElement(tag);
    c.textContent = text;
    for (const [k, v] of Object.entries(attrs)) c.setAttribute(k, v);
    return c;
  };
  const caption = document.createElement('caption');
  caption.textContent = t('calibration.tableCaption');
  const head = document.createElement('thead');
  const groups = document.createElement('tr');
  groups.append(cell('td', ''), cell('th', t('calibration.atOne'), { colspan: '3', scope: 'colgroup' }),
    cell('th', tAfter, { colspan: '3', scope: 'colgroup' }));
  const sub = document.createElement('tr');
  sub.append(cell('th', t('calibration.bin'), { scope: 'col' }));
  for (let k = 0; k < 2; k++) {
    for (const key of ['calibration.count', 'calibration.meanConfidence', 'calibration.binAccuracy']) sub.append(cell('th', t(key), { scope: 'col' }));
  }
  head.append(groups, sub);
  const body = document.createElement('tbody');
  const n = r.bins.length;
  r.bins.forEach((b, i) => {
    const tr = document.createElement('tr');
    tr.append(cell('th', t('calibration.binRange', { lo: fixed(i / n, 3), hi: fixed((i + 1) / n, 3) }), { scope: 'row' }));
    for (const x of [b, r.after.bins[i]]) {
      tr.append(cell('td', integer(x.count)), cell('td', x.count ? fixed(x.confidence, 3) : '—'), cell('td', x.count ? fixed(x.accuracy, 3) : '—'));
    }
    body.append(tr);
  });
  $('rel-data').replaceChildren(caption, head, body);
}

/** Wires the card. Returns `{ modelChanged }`. */
export function setupCalibration({ lab }) {
  const card = { seq: 0 };

  function show(r) {
    const a = r.after;
    const T = fixed(r.temperature, 3);
    const tAfter = t('calibration.atFitted', { t: T });
    $('calibration-split').textContent = t('calibration.split', {
      chars: integer(r.chars), tokens: integer(r.tokens), fit: integer(r.fitPositions), n: integer(r.positions),
    });
    $('cal-col-before').textContent = t('calibration.atOne');
    $('cal-col-after').textContent = tAfter;
    for (const [key, digits] of [['ece', 4], ['nll', 4], ['brier', 4]]) {
      $(`cal-${key}-before`).textContent = fixed(r[key], digits);
      $(`cal-${key}-after`).textContent = fixed(a[key], digits);
    }
    $('cal-acc-before').textContent = fixed(r.accuracy, 4);
    $('cal-acc-after').textContent = fixed(a.accuracy, 4);
    $('calibration-confidence').textContent = t(CONFIDENCE[r.confidence], { t: T });
    $('calibration-measured').textContent = t(MEASURED[r.measured], {
      eceBefore: fixed(r.ece, 4), eceAfter: fixed(a.ece, 4), nllBefore: fixed(r.nll, 4), nllAfter: fixed(a.nll, 4),
    });
    $('rel-before-title').textContent = t('calibration.atOne');
    $('rel-after-title').textContent = tAfter;
    diagram($('rel-before'), r.bins, t('calibration.diagramLabel', { which: t('calibration.atOne') }));
    diagram($('rel-after'), a.bins, t('calibration.diagramLabel', { which: tAfter }));
    binTable(r, tAfter);
    $('calibration-result').hidden = false;
  }

  $('calibrate').addEventListener('click', async () => {
    if ($('calibrate').getAttribute('aria-disabled') === 'true') return;
    const seq = ++card.seq;
    // aria-disabled, not disabled: the button keeps keyboard focus while the model runs.
    $('calibrate').setAttribute('aria-disabled', 'true');
    $('calibration-status').textContent = t('calibration.working');
    try {
      const start = performance.now();
      const r = await lab.call('calibration');
      if (seq !== card.seq) return; // another model has loaded since
      show(r);
      $('calibration-status').textContent = t('calibration.took', { seconds: fixed((performance.now() - start) / 1000, 2) });
      announce(`${$('calibration-confidence').textContent} ${$('calibration-measured').textContent}`);
    } catch (e) {
      if (seq !== card.seq) return;
      fillNodes($('calibration-status'), 'calibration.failed', {}, { error: errorNode(e) });
    } finally {
      if (seq === card.seq) $('calibrate').removeAttribute('aria-disabled');
    }
  });

  return {
    /** Another model: the figures were the old one's. */
    modelChanged: () => {
      card.seq++;
      $('calibrate').removeAttribute('aria-disabled');
      $('calibration-result').hidden = true;
      $('calibration-status').textContent = '';
    },
  };
}
