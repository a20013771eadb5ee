// The "your own logits" view: a vector the student types, computed by the wasm on the main
// thread (it is tiny). Shows that softmax(log_softmax(z)/T) = softmax(z/T).

import { softmax, logSoftmax, logsumexp, temperatureIdentity } from './pkg/logitlab.js';

const $ = (id) => document.getElementById(id);

function parseLogits(text) {
  return new Float32Array(text.split(/[\s,;]+/).filter(Boolean).map(Number));
}

export function renderNumbers() {
  const z = parseLogits($('logits').value);
  const t = Number($('n-temperature').value);
  $('n-temperature-value').textContent = t === 0 ? '0 (greedy)' : t.toFixed(2);
  try {
    const lp = logSoftmax(z);
    const p = softmax(z, t);
    const q = softmax(lp, t);
    const body = $('n-table').tBodies[0];
    body.replaceChildren(...Array.from(z, (zi, i) => {
      const tr = document.createElement('tr');
      for (const text of [String(i), ...[zi, lp[i], p[i], q[i]].map((v) => v.toPrecision(6))]) {
        const td = document.createElement('td');
        td.textContent = text;
        tr.append(td);
      }
      return tr;
    }));
    $('n-lse').textContent = logsumexp(z).toPrecision(7);
    const diff = t > 0 ? temperatureIdentity(z, t).maxAbsDiff : 0;
    $('n-maxdiff').textContent = diff.toExponential(2);
    $('n-error').hidden = true;
  } catch (e) {
    $('n-error').textContent = e.message;
    $('n-error').hidden = false;
  }
}

export function setupNumbers() {
  $('logits').addEventListener('input', renderNumbers);
  $('n-temperature').addEventListener('input', renderNumbers);
  renderNumbers();
}
