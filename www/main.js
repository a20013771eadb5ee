// The page's one script for now: it reads the controls, asks the wasm module for the numbers,
// and writes them into the table. No maths here: every number comes from the Rust functions
// that the tests check.
import init, { softmax, logSoftmax, logsumexp } from './pkg/logitlab.js';

const $ = (id) => document.getElementById(id);

function parseLogits(text) {
  return new Float32Array(text.split(/[\s,;]+/).filter(Boolean).map(Number));
}

function render() {
  const z = parseLogits($('logits').value);
  const t = Number($('temperature').value);
  $('temperature-value').textContent = t === 0 ? '0 (greedy)' : t.toFixed(2);
  try {
    const lp = logSoftmax(z);
    const p = softmax(z, t);
    const q = softmax(lp, t);
    const body = $('table').tBodies[0];
    body.replaceChildren(...Array.from(z, (zi, i) => {
      const tr = document.createElement('tr');
      const cells = [String(i), ...[zi, lp[i], p[i], q[i]].map((v) => v.toPrecision(6))];
      for (const text of cells) {
        const td = document.createElement('td');
        td.textContent = text;
        tr.append(td);
      }
      return tr;
    }));
    $('lse').textContent = logsumexp(z).toPrecision(7);
    $('maxdiff').textContent = p.reduce((m, pi, i) => Math.max(m, Math.abs(pi - q[i])), 0).toExponential(2);
    $('error').hidden = true;
  } catch (e) {
    $('error').textContent = e.message;
    $('error').hidden = false;
  }
}

await init();
$('logits').addEventListener('input', render);
$('temperature').addEventListener('input', render);
render();
$('status').textContent = 'wasm module loaded';
document.body.dataset.ready = '1';
