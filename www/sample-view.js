// The sampling lab: prompt, generation, sliders, and the panels that explain one step.
// It renders what the worker computed; the only arithmetic here is layout (bar widths).

import { renderBars } from './bars.js';
import { zeroThresholds } from './pkg/logitlab.js';

const $ = (id) => document.getElementById(id);
const CUT_NAMES = ['', 'excluded by the input', 'greedy', 'cut by top-k', 'cut by top-p', 'cut by min-p'];
const TOP = 12;
const FORMAT_NAMES = { f32: 'float32', bf16: 'bfloat16', f16: 'float16' };
let THRESHOLDS = [];     // where each storage format rounds p to 0, from the wasm

/** Shows the state in the controls, even before (or without) a model. */
export function showControls(state) {
  $('prompt').value = state.prompt;
  for (const key of ['temperature', 'topK', 'topP', 'minP', 'precisionT']) $(key).value = String(state[key]);
  $('seed').value = String(state.seed);
  for (const r of document.querySelectorAll('input[name=output]')) r.checked = r.value === state.output;
  for (const r of document.querySelectorAll('input[name=show]')) r.checked = r.value === state.show;
  $('temperature-value').textContent = state.temperature === 0 ? '0 = greedy' : state.temperature.toFixed(2);
  $('topK-value').textContent = state.topK === 0 ? 'off' : String(state.topK);
  $('topP-value').textContent = state.topP >= 1 ? 'off' : state.topP.toFixed(2);
  $('minP-value').textContent = state.minP === 0 ? 'off' : state.minP.toFixed(2);
  $('precisionT-value').textContent = state.precisionT.toFixed(2);
}

/** `model`: `{ config, labels }` of the model loaded now (main.js replaces them on a switch). */
export function setupSample({ lab, state, update, model }) {
  let generated = [];          // [{ ch, logProb }]
  let generating = false;
  let panelSeq = 0;

  const options = () => ({
    temperature: state.temperature, topK: state.topK, topP: state.topP, minP: state.minP,
    seed: state.seed,
  });
  const contextText = () => state.prompt + generated.map((g) => g.ch).join('');

  // ---- controls → state ----
  THRESHOLDS = zeroThresholds();
  for (const t of THRESHOLDS) {
    const cell = $(`t-${t.format}`);
    const sup = document.createElement('sup');
    sup.textContent = `−${-t.log2P}`;
    const ln = document.createElement('span');
    ln.className = 'muted';
    ln.textContent = `ln p ≤ ${t.lnP.toFixed(1)}`;
    cell.replaceChildren('2', sup, document.createElement('br'), ln);
  }
  const showModel = () => {
    $('topK').max = String(model.config.vocabSize);
    $('vocab-size').textContent = String(model.config.vocabSize);
  };
  showModel();
  const unit = () => (model.config.tokenizer === 'chars' ? 'characters' : 'tokens');
  const sliders = ['temperature', 'topK', 'topP', 'minP', 'precisionT'];
  for (const key of sliders) {
    $(key).addEventListener('input', () => { update({ [key]: Number($(key).value) }); refreshPanel(); });
  }
  $('seed').addEventListener('change', () => {
    const s = Number($('seed').value);
    if (Number.isInteger(s) && s >= 0 && s <= Number.MAX_SAFE_INTEGER) update({ seed: s });
    refreshPanel();
  });
  $('new-seed').addEventListener('click', () => {
    update({ seed: crypto.getRandomValues(new Uint32Array(1))[0] });
    refreshPanel();
  });
  $('prompt').addEventListener('input', () => {
    update({ prompt: $('prompt').value });
    generated = [];
    renderOutput();
    refreshPanel();
  });
  for (const r of document.querySelectorAll('input[name=output]')) {
    r.addEventListener('change', () => { update({ output: r.value }); refreshPanel(); });
  }
  for (const r of document.querySelectorAll('input[name=show]')) {
    r.addEventListener('change', () => { update({ show: r.value }); refreshPanel(); });
  }

  const syncControls = () => showControls(state);

  // ---- output text ----
  function renderOutput() {
    $('output-prompt').textContent = state.prompt;
    const spans = generated.map((g, i) => tokenSpan(g, i));
    $('output-gen').replaceChildren(...spans);
  }
  function tokenSpan(g, i) {
    const span = document.createElement('span');
    span.textContent = g.ch;
    span.tabIndex = -1;
    span.dataset.i = String(i);
    const surprisal = -g.logProb;
    // 0 nats → transparent, ≥ 6 nats → full tint.
    span.style.setProperty('--s', String(Math.min(1, surprisal / 6)));
    span.className = 'tok';
    span.title = describe(g);
    return span;
  }
  function describe(g) {
    const s = -g.logProb;
    return `${JSON.stringify(g.ch)}: surprisal ${s.toFixed(2)} nats (${(s / Math.LN2).toFixed(2)} bits), p = ${Math.exp(g.logProb).toPrecision(3)} (the model's probability at T = 1, before any filter)`;
  }
  function showInfo(i) {
    const g = generated[i];
    if (g) $('token-info').textContent = describe(g);
  }
  $('output-gen').addEventListener('mouseover', (e) => { if (e.target.dataset?.i) showInfo(Number(e.target.dataset.i)); });
  $('output-gen').addEventListener('focusin', (e) => { if (e.target.dataset?.i) showInfo(Number(e.target.dataset.i)); });
  $('output').addEventListener('keydown', (e) => {
    if (!['ArrowLeft', 'ArrowRight', 'Home', 'End'].includes(e.key) || generated.length === 0) return;
    e.preventDefault();
    const cur = Number(document.activeElement?.dataset?.i ?? -1);
    let i = e.key === 'ArrowLeft' ? cur - 1 : e.key === 'ArrowRight' ? cur + 1 : e.key === 'Home' ? 0 : generated.length - 1;
    i = Math.max(0, Math.min(generated.length - 1, i));
    $('output-gen').children[i]?.focus();
  });

  // ---- generation ----
  lab.onTokens = ({ tokens }) => {
    const start = generated.length;
    for (const t of tokens) generated.push({ ch: t.text, logProb: t.logProb });
    $('output-gen').append(...generated.slice(start).map((g, k) => tokenSpan(g, start + k)));
  };
  async function generate(n) {
    if (generating) return;
    generating = true;
    setBusy(true);
    const t0 = performance.now();
    const before = generated.length;
    try {
      const r = await lab.call('generate', { text: contextText(), options: options(), output: state.output, tokens: n });
      const made = generated.length - before;
      const secs = (performance.now() - t0) / 1000;
      $('gen-info').textContent = `${made} ${unit()} in ${secs.toFixed(2)} s (${(made / secs).toFixed(0)} per second)${r.stopped ? ', stopped' : ''}${r.ended ? ': the model ended the text (it produced BOS, where llama2.c\'s run.c stops too)' : ''}.`;
    } catch (e) {
      $('gen-info').textContent = e.message;
    } finally {
      generating = false;
      setBusy(false);
      refreshPanel();
    }
  }
  function setBusy(busy) {
    $('generate').disabled = busy;
    $('step').disabled = busy;
    $('stop').disabled = !busy;
  }
  $('generate').addEventListener('click', () => generate(state.tokens));
  $('step').addEventListener('click', () => generate(1));
  $('stop').addEventListener('click', () => lab.call('stop'));
  $('clear').addEventListener('click', () => { generated = []; renderOutput(); refreshPanel(); });

  // ---- the next-token panel ----
  async function refreshPanel() {
    syncControls();
    const seq = ++panelSeq;
    let r;
    try {
      r = await lab.call('panel', { text: contextText(), options: options(), output: state.output, precisionT: state.precisionT, top: TOP });
    } catch (e) {
      $('bars-text').textContent = e.message;
      $('bars').replaceChildren();
      return;
    }
    if (seq !== panelSeq) return; // a newer request is on its way
    renderPanel(r);
  }

  function renderPanel(r) {
    const v = r.values.length;
    const show = state.show;
    const series = show === 'probs' ? r.probs : show === 'logProbs' ? r.logProbs : r.values;
    const order = Array.from(r.top); // the TOP most likely ids under the model, best first
    let lo = Infinity;
    let hi = -Infinity;
    for (const x of series) if (Number.isFinite(x)) { lo = Math.min(lo, x); hi = Math.max(hi, x); }
    const frac = (x) => show === 'probs' ? x : (Number.isFinite(x) ? (x - lo) / (hi - lo || 1) : 0);
    const fmt = (x) => show === 'probs' ? x.toPrecision(3) : x.toFixed(3);
    const rows = order.map((i) => ({
      label: model.labels[i],
      value: fmt(series[i]),
      fraction: frac(series[i]),
      note: r.cut[i] ? `(${CUT_NAMES[r.cut[i]]})` : '',
      muted: r.cut[i] !== 0,
    }));
    if (r.rest > 0) {
      // The tail as one row: what top-p and min-p cut is visible as a number.
      rows.push({
        label: `other ${r.rest}`, value: show === 'probs' ? r.restMass.toPrecision(3) : `${r.restCut} cut`,
        fraction: show === 'probs' ? r.restMass : 0, muted: true, note: show === 'probs' ? `(${r.restCut} cut)` : '',
      });
    }
    renderBars($('bars'), rows);
    $('bars-text').textContent = `Top ${order.length} of ${v} ${unit()} by the model's probability (T = 1, before any filter), and the other ${r.rest} as one row. ` +
      `They hold ${r.restMass.toPrecision(3)} of the final probability; ${r.restCut} of them are cut. ` +
      `Greyed bars were removed by a sampler step. Drawn with this seed: ${model.labels[r.token]}.`;
    $('entropy').textContent = `${r.entropy.toFixed(3)} nats = ${r.entropyBits.toFixed(3)} bits`;
    $('perplexity').textContent = r.perplexity.toFixed(2);
    $('lse').textContent = r.logsumexp.toFixed(4) + (state.output === 'logSoftmax' ? ' (≈ 0: already normalised)' : '');
    $('kept').textContent = `${r.kept} of ${v}`;

    // The identity panel: the two distributions, side by side, for the top ids.
    $('identity-t').textContent = state.temperature === 0
      ? 'At T = 0 (greedy) both are the one-hot of the same argmax: the largest z, the lowest id on a tie. Computed both ways:'
      : `At the current T = ${state.temperature.toFixed(2)}, computed both ways:`;
    const idRows = (dist) => order.slice(0, 6).map((i) => {
      const li = document.createElement('li');
      li.textContent = `${model.labels[i]}  ${dist[i].toPrecision(7)}`;
      return li;
    });
    $('id-logits').replaceChildren(...idRows(r.identity.fromLogits));
    $('id-lsm').replaceChildren(...idRows(r.identity.fromLogSoftmax));
    $('maxdiff').textContent = r.identity.maxAbsDiff.toExponential(2);

    const { zeros, zerosAfter, minLogProb } = r.precision;
    for (const [key, id] of [['f32', 'f32'], ['bf16', 'bf16'], ['f16', 'f16'], ['logProbs', 'log']]) {
      $(`z-${id}`).textContent = String(zeros[key]);
      $(`r-${id}`).textContent = String(zerosAfter[key]);
    }
    // Narrowest format first: float16, bfloat16, float32.
    const verdicts = THRESHOLDS.slice().reverse().map((t) => `${FORMAT_NAMES[t.format]} (ln p ≤ ${t.lnP.toFixed(1)}) ` +
      (minLogProb <= t.lnP ? 'stores some ids as 0' : 'keeps every id'));
    $('precision-note').textContent = `Stored at T = ${state.precisionT.toFixed(2)}, the smallest ln p here is ` +
      `${minLogProb.toFixed(1)}, so ${verdicts.join('; ')}.`;
    lastOrder = order;
  }
  let lastOrder = [];

  // ---- many draws ----
  $('draw').addEventListener('click', async () => {
    $('draw').disabled = true;
    try {
      const r = await lab.call('draws', { text: contextText(), options: options(), output: state.output, n: 1000 });
      const order = lastOrder.length ? lastOrder : Array.from(r.probs.keys()).slice(0, TOP);
      const ids = order.filter((i) => r.probs[i] > 0 || r.counts[i] > 0);
      const max = Math.max(...ids.map((i) => Math.max(r.counts[i] / r.n, r.probs[i])), 1e-9);
      renderBars($('hist'), ids.map((i) => ({
        label: model.labels[i],
        value: `${r.counts[i]} (expected ${r.expected[i].toFixed(1)})`,
        fraction: r.counts[i] / r.n / max,
        marker: r.probs[i] / max,
      })));
      $('hist-text').textContent = `${r.n} draws. Bars: observed frequency; tick marks: the exact probability.`;
    } catch (e) {
      $('hist-text').textContent = e.message;
    } finally {
      $('draw').disabled = false;
    }
  });

  syncControls();
  renderOutput();
  // Otherwise when the view is first shown. `ready`: the first panel is on screen.
  const ready = state.view === 'sample' ? refreshPanel() : Promise.resolve();
  return {
    ready,
    /** Another model: the text so far was another model's, so it goes. */
    modelChanged: () => {
      if (generating) lab.call('stop');
      generated = [];
      lastOrder = [];
      showModel();
      $('hist').replaceChildren();
      $('hist-text').textContent = '';
      renderOutput();
      if (state.view === 'sample') refreshPanel();
    },
    refresh: () => { renderOutput(); refreshPanel(); },
    /** Leaving the view stops a generation: no work keeps running where nobody sees it. */
    hide: () => { if (generating) lab.call('stop'); },
  };
}
