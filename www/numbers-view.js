// The "your own logits" view: a vector the student types, computed by the wasm on the main
// thread (it is small). Shows that softmax(log_softmax(z)/T) = softmax(z/T), and why
// log_softmax is computed the stable way. The typed vector and T live in the URL.

import { softmax, logSoftmax, logsumexp, temperatureIdentity, stability } from './pkg/logitlab.js';
import { bindControl } from './state.js';
import { t, fixed, precision, exponential, integer, errorNode, fillNodes } from './i18n.js';
import { readTyped, fromUrl, toUrl } from './values.js';

const $ = (id) => document.getElementById(id);
/** Rows listed in each table; a 50 000-entry vector shows its first ROWS and says so. */
const ROWS = 10;

function fill(table, rows) {
  table.tBodies[0].replaceChildren(...rows.map((cells) => {
    const tr = document.createElement('tr');
    for (const text of cells) {
      const td = document.createElement('td');
      td.textContent = text;
      tr.append(td);
    }
    return tr;
  }));
}

/** −∞ and NaN as a student would write them; finite values to 6 significant digits. */
const num = (v) => (Number.isNaN(v) ? 'NaN' : v === -Infinity ? '−∞' : v === Infinity ? '∞' : precision(v, 6));

/**
 * What the stable log_softmax gave, by cause as the wasm counted it: −∞ exactly where z_i = −∞ or
 * where z_i − max z overflows float32.
 */
function stableSummary(s) {
  const parts = [];
  if (s.stableNegInfOfInfiniteZ > 0) parts.push(t('stability.infWhereZInf', { n: integer(s.stableNegInfOfInfiniteZ) }));
  if (s.stableNegInfOfOverflow > 0) parts.push(t('stability.infWhereOverflow', { n: integer(s.stableNegInfOfOverflow) }));
  return parts.length ? parts.join(t('stability.and')) : t('stability.everyFinite');
}

function render(state) {
  const T = state.numbersTemperature;
  $('n-temperature-value').textContent = T === 0 ? t('numbers.greedy') : fixed(T, 2);
  try {
    const z = readTyped($('logits').value); // the box shows state.numbersLogits in the page's notation
    const lp = logSoftmax(z);
    const p = softmax(z, T);
    const q = softmax(lp, T);
    const shown = Math.min(z.length, ROWS);
    const ids = Array.from({ length: shown }, (_, i) => i);
    fill($('n-table'), ids.map((i) => [String(i), ...[z[i], lp[i], p[i], q[i]].map(num)]));
    $('n-more').hidden = z.length <= ROWS;
    $('n-more').textContent = t('numbers.more', { rows: ROWS, n: z.length });
    $('n-lse').textContent = precision(logsumexp(z), 7);
    const diff = temperatureIdentity(z, T).maxAbsDiff;
    $('n-maxdiff').textContent = exponential(diff, 2);

    const s = stability(z);
    fill($('s-table'), ids.map((i) => [String(i), num(z[i]), num(s.stable[i]), num(s.naiveF32[i]), num(s.naiveF16[i])]));
    const broken = (what, nan, inf) => (nan + inf === 0 ? t('stability.allFinite', { what }) : t('stability.broken', { what, nan, inf }));
    $('s-summary').textContent = t('stability.summary', { n: z.length,
      f32: broken(t('stability.naiveF32'), s.nan.f32, s.negInf.f32), f16: broken(t('stability.naiveF16'), s.nan.f16, s.negInf.f16),
      stable: stableSummary(s) });
    $('n-error').hidden = true;
  } catch (e) {
    fillNodes($('n-error'), 'numbers.error', {}, { error: errorNode(e) });
    $('n-error').hidden = false;
  }
}

export function setupNumbers({ state, update }) {
  $('logits').value = fromUrl(state.numbersLogits);
  bindControl($('n-temperature'), 'numbersTemperature');
  $('n-temperature').value = String(state.numbersTemperature);
  $('logits').addEventListener('input', () => { update({ numbersLogits: toUrl($('logits').value).slice(0, 2000) }); render(state); });
  $('n-temperature').addEventListener('input', () => { update({ numbersTemperature: Number($('n-temperature').value) }); render(state); });
  for (const b of document.querySelectorAll('[data-preset]')) {
    b.addEventListener('click', () => {
      $('logits').value = fromUrl(b.dataset.preset); // the presets are in the URL's notation
      update({ numbersLogits: b.dataset.preset });
      render(state);
    });
  }
  render(state);
}
