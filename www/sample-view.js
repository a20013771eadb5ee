// The sampling lab: prompt, generation, sliders, and the panels that explain one step.
// It renders what the worker computed; the only arithmetic here is layout (bar widths).

import { renderBars, charLabel } from './bars.js';

const $ = (id) => document.getElementById(id);
const CUT_NAMES = ['', 'excluded by the input', 'greedy', 'cut by top-k', 'cut by top-p', 'cut by min-p'];
const TOP = 12;

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

export function setupSample({ lab, state, update, vocab, config }) {
  let generated = [];          // [{ ch, logProb }]
  let generating = false;
  let panelSeq = 0;

  const options = () => ({
    temperature: state.temperature, topK: state.topK, topP: state.topP, minP: state.minP,
    seed: state.seed,
  });
  const contextText = () => state.prompt + generated.map((g) => g.ch).join('');

  // ---- controls → state ----
  $('topK').max = String(config.vocabSize);
  $('vocab-size').textContent = String(config.vocabSize);
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
    return `${JSON.stringify(g.ch)}: surprisal ${s.toFixed(2)} nats (${(s / Math.LN2).toFixed(2)} bits), p = ${Math.exp(g.logProb).toPrecision(3)}`;
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
      $('gen-info').textContent = `${made} characters in ${secs.toFixed(2)} s (${(made / secs).toFixed(0)} per second)${r.stopped ? ', stopped' : ''}.`;
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
      r = await lab.call('panel', { text: contextText(), options: options(), output: state.output, precisionT: state.precisionT });
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
    const order = Array.from({ length: v }, (_, i) => i)
      .sort((a, b) => r.logProbs[b] - r.logProbs[a] || a - b); // at most V = a few hundred here
    const finite = Array.from(series).filter(Number.isFinite);
    const lo = Math.min(...finite);
    const hi = Math.max(...finite);
    const frac = (x) => show === 'probs' ? x : (Number.isFinite(x) ? (x - lo) / (hi - lo || 1) : 0);
    const fmt = (x) => show === 'probs' ? x.toPrecision(3) : x.toFixed(3);
    const rows = order.slice(0, TOP).map((i) => ({
      label: charLabel(vocab[i]),
      value: fmt(series[i]),
      fraction: frac(series[i]),
      note: r.cut[i] ? `(${CUT_NAMES[r.cut[i]]})` : '',
      muted: r.cut[i] !== 0,
    }));
    const rest = order.slice(TOP);
    const restMass = rest.reduce((m, i) => m + r.probs[i], 0);
    const restCut = rest.filter((i) => r.cut[i] !== 0).length;
    renderBars($('bars'), rows);
    $('bars-text').textContent = `Top ${Math.min(TOP, v)} of ${v} characters by model probability. ` +
      `The other ${rest.length} hold ${restMass.toPrecision(3)} of the final probability; ${restCut} of them are cut. ` +
      `Greyed bars were removed by a sampler step. Drawn with this seed: ${JSON.stringify(vocab[r.token])}.`;
    $('entropy').textContent = `${r.entropy.toFixed(3)} nats = ${(r.entropy / Math.LN2).toFixed(3)} bits`;
    $('perplexity').textContent = Math.exp(r.entropy).toFixed(2);
    $('lse').textContent = r.logsumexp.toFixed(4) + (state.output === 'logSoftmax' ? ' (≈ 0: already normalised)' : '');
    $('kept').textContent = `${r.kept} of ${v}`;

    // The identity panel: the two distributions, side by side, for the top ids.
    const idRows = (dist) => order.slice(0, 6).map((i) => {
      const li = document.createElement('li');
      li.textContent = `${charLabel(vocab[i])}  ${dist[i].toPrecision(7)}`;
      return li;
    });
    $('id-logits').replaceChildren(...idRows(r.identity.fromLogits));
    $('id-lsm').replaceChildren(...idRows(r.identity.fromLogSoftmax));
    $('maxdiff').textContent = r.identity.maxAbsDiff.toExponential(2);

    const z = r.precision.zeros;
    $('z-f32').textContent = String(z.f32);
    $('z-bf16').textContent = String(z.bf16);
    $('z-f16').textContent = String(z.f16);
    $('z-log').textContent = String(z.logProbs);
    const a = r.precision.afterT3;
    $('r-f32').textContent = String(a.f32);
    $('r-bf16').textContent = String(a.bf16);
    $('r-f16').textContent = String(a.f16);
    $('r-log').textContent = String(a.logProbs);
    lastOrder = order;
  }
  let lastOrder = [];

  // ---- many draws ----
  $('draw').addEventListener('click', async () => {
    $('draw').disabled = true;
    try {
      const r = await lab.call('draws', { text: contextText(), options: options(), output: state.output, n: 1000 });
      const order = lastOrder.length ? lastOrder : Array.from(r.probs.keys());
      const ids = order.filter((i) => r.probs[i] > 0 || r.counts[i] > 0).slice(0, TOP);
      const max = Math.max(...ids.map((i) => Math.max(r.counts[i] / r.n, r.probs[i])), 1e-9);
      renderBars($('hist'), ids.map((i) => ({
        label: charLabel(vocab[i]),
        value: `${r.counts[i]} (expected ${(r.probs[i] * r.n).toFixed(1)})`,
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
  if (state.view === 'sample') refreshPanel(); // otherwise when the view is first shown
  return {
    refresh: () => { renderOutput(); refreshPanel(); },
    /** Leaving the view stops a generation: no work keeps running where nobody sees it. */
    hide: () => { if (generating) lab.call('stop'); },
  };
}
