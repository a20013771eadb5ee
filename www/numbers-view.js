// The "your own logits" view: a vector the student types, computed by the wasm on the main
// thread (it is small). Shows that softmax(log_softmax(z)/T) = softmax(z/T), and why
// log_softmax is computed the stable way. The typed vector and T live in the URL.

import { softmax, logSoftmax, logsumexp, temperatureIdentity, stability, parseValues } from './pkg/logitlab.js';

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
const num = (v) => (Number.isNaN(v) ? 'NaN' : v === -Infinity ? '−∞' : v === Infinity ? '∞' : v.toPrecision(6));

function render(state) {
  const t = state.numbersTemperature;
  $('n-temperature-value').textContent = t === 0 ? '0 (greedy)' : t.toFixed(2);
  try {
    const z = parseValues(state.numbersLogits);
    const lp = logSoftmax(z);
    const p = softmax(z, t);
    const q = softmax(lp, t);
    const shown = Math.min(z.length, ROWS);
    const ids = Array.from({ length: shown }, (_, i) => i);
    fill($('n-table'), ids.map((i) => [String(i), ...[z[i], lp[i], p[i], q[i]].map(num)]));
    $('n-more').hidden = z.length <= ROWS;
    $('n-more').textContent = `The first ${ROWS} of ${z.length} ids; the sums and differences below cover all of them.`;
    $('n-lse').textContent = logsumexp(z).toPrecision(7);
    const diff = temperatureIdentity(z, t).maxAbsDiff;
    $('n-maxdiff').textContent = diff.toExponential(2);

    const s = stability(z);
    fill($('s-table'), ids.map((i) => [String(i), num(z[i]), num(s.stable[i]), num(s.naiveF32[i]), num(s.naiveF16[i])]));
    const broken = (what, nan, inf) => (nan + inf === 0 ? `${what}: every entry finite`
      : `${what}: ${nan} NaN and ${inf} −∞`);
    $('s-summary').textContent = `Over all ${z.length} ids — ${broken('naive float32', s.nan.f32, s.negInf.f32)}; `
      + `${broken('naive float16', s.nan.f16, s.negInf.f16)}; stable log_softmax: `
      + `${lp.every(Number.isFinite) ? 'every entry finite' : 'finite wherever z is'}.`;
    $('n-error').hidden = true;
  } catch (e) {
    $('n-error').textContent = e.message;
    $('n-error').hidden = false;
  }
}

export function setupNumbers({ state, update }) {
  $('logits').value = state.numbersLogits;
  $('n-temperature').value = String(state.numbersTemperature);
  $('logits').addEventListener('input', () => { update({ numbersLogits: $('logits').value.slice(0, 2000) }); render(state); });
  $('n-temperature').addEventListener('input', () => { update({ numbersTemperature: Number($('n-temperature').value) }); render(state); });
  for (const b of document.querySelectorAll('[data-preset]')) {
    b.addEventListener('click', () => {
      $('logits').value = b.dataset.preset;
      update({ numbersLogits: b.dataset.preset });
      render(state);
    });
  }
  render(state);
}
