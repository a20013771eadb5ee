// The sampling lab: prompt, generation, sliders, and the panels that explain one step.
// It renders what the worker computed; the only arithmetic here is layout (bar widths).
//
// Where things are: `setupSample` wires the view together. The controls: `showControls`,
// `bindSettings`, `bindPrompt`. The output text: `renderOutput`, `tokenSpan`, `bindTokenInfo`,
// `bindGeneration`, `generate`. The panels of one step: `refreshPanel`, then `renderNextToken`,
// `renderIdentity`, `renderPrecision`, and the card of quantised weights (weights-view.js,
// `ctx.weights`). The calibration card is calibration-view.js (`ctx.calibration`). Many draws:
// `bindDraws`. The sampler chain's list, the
// three distributions and why the order matters are in chain-view.js (`ctx.chain`). Each takes
// the view's context `ctx` = { lab (the worker), state (the page's state), update, model, chain }
// and the view's own
// `out` (the text generated so far) or `panel` (the panel's last answer) where it needs them.

import { renderBars } from './bars.js';
import { bindControl, hidden } from './state.js';
import { zeroThresholds, cutReasons } from './pkg/logitlab.js';
import { t, fixed, precision, exponential, integer, english, errorNode, fillNodes, lang } from './i18n.js';
import { announce, announceError } from './announce.js';
import { setupChain, slidersChain } from './chain-view.js';
import { setupWeights } from './weights-view.js';
import { setupCalibration } from './calibration-view.js';

const $ = (id) => document.getElementById(id);
/** Why a sampler step removed an id: the catalogue key by the wasm's cut code (0 = kept). */
let CUT_KEYS = [];
const TOP = 12;
const FORMAT_NAMES = { f32: 'float32', bf16: 'bfloat16', f16: 'float16' };
let THRESHOLDS = [];     // where each storage format rounds p to 0, from the wasm

/** Shows the state in the controls, even before (or without) a model. */
export function showControls(state) {
  // Only what differs is written: the panel calls this at every slider move, and a write of the
  // same value would still make the browser restyle the control (and reset the prompt's caret).
  const put = (el, key, value) => { if (el[key] !== value) el[key] = value; };
  put($('prompt'), 'value', state.prompt);
  for (const key of ['temperature', 'topP', 'minP', 'precisionT']) bindControl($(key), key);
  for (const key of ['temperature', 'topK', 'topP', 'minP', 'precisionT']) put($(key), 'value', String(state[key]));
  put($('seed'), 'value', String(state.seed));
  for (const r of document.querySelectorAll('input[name=output]')) put(r, 'checked', r.value === state.output);
  for (const r of document.querySelectorAll('input[name=show]')) put(r, 'checked', r.value === state.show);
  put($('temperature-value'), 'textContent', state.temperature === 0 ? t('value.greedy') : fixed(state.temperature, 2));
  put($('topK-value'), 'textContent', state.topK === 0 ? t('value.off') : integer(state.topK));
  put($('topP-value'), 'textContent', state.topP >= 1 ? t('value.off') : fixed(state.topP, 2));
  put($('minP-value'), 'textContent', state.minP === 0 ? t('value.off') : fixed(state.minP, 2));
  put($('precisionT-value'), 'textContent', fixed(state.precisionT, 2));
}

/** `model`: `{ config, labels }` of the model loaded now (main.js replaces them on a switch). */
export function setupSample(ctx) {
  const { lab, state } = ctx;
  // generated: [{ ch, logProb }]; chat: the prompt through the chat template, or null.
  const out = { generated: [], generating: false, chat: null, chatOf: '' };
  const panel = { seq: 0, order: [] };                 // order: the ids the panel shows, best first
  // The panel reads the prompt as the model sees it: through its chat template, if asked.
  const refresh = () => renderChat(ctx, out).then(() => refreshPanel(ctx, out, panel));
  const orderMatters = (chains) => lab.call('orderMatters', { text: contextText(state, out), chains, seed: state.seed, output: state.output, tokens: 40 });
  ctx.chain = setupChain(ctx, refresh, orderMatters);
  ctx.weights = setupWeights(ctx, () => contextText(state, out));
  ctx.calibration = setupCalibration(ctx);

  THRESHOLDS = zeroThresholds();
  CUT_KEYS = cutReasons().map((name) => `cut.${name}`);
  showThresholds();
  showModel(ctx.model);
  bindSettings(ctx, refresh);
  bindPrompt(ctx, out, refresh);
  bindChat(ctx, out, refresh);
  bindTokenInfo(out);
  bindGeneration(ctx, out, refresh);
  bindDraws(ctx, out, panel);

  showControls(state);
  renderOutput(state, out);
  // Otherwise when the view is first shown. `ready`: the first panel is on screen.
  const ready = state.view === 'sample' ? refresh() : Promise.resolve();
  return {
    ready,
    /** Another model: the text so far was another model's, so it goes. */
    modelChanged: () => {
      if (out.generating) lab.call('stop');
      out.generated = [];
      out.chat = null;
      panel.order = [];
      showModel(ctx.model);
      ctx.weights.modelChanged(ctx.model);
      ctx.calibration.modelChanged();
      $('hist').replaceChildren();
      $('hist-data').replaceChildren();
      $('hist-text').textContent = '';
      showChat(ctx);
      renderOutput(state, out);
      showPromptStats(ctx);
      if (state.view === 'sample') refresh();
    },
    refresh: () => { renderOutput(state, out); showPromptStats(ctx); refresh(); },
    /** Leaving the view stops a generation: no work keeps running where nobody sees it. */
    hide: () => { if (out.generating) lab.call('stop'); },
  };
}

/** What the worker samples with: the sampler's options from the state. */
const samplerOptions = (state) => ({
  temperature: state.temperature, topK: state.topK, topP: state.topP, minP: state.minP,
  seed: state.seed,
});
/**
 * The prompt, as one chat message written out by the model's chat template when "as a chat
 * message" is on, and the text generated after it: what the next token is conditioned on.
 */
const contextText = (state, out) => (out.chat ?? state.prompt) + out.generated.map((g) => g.ch).join('');
/** Whether the prompt goes through the model's chat template. */
const chatOn = (state, model) => state.chat === 1 && model.config.chatTemplate === true;
/** The model's unit (tokens, or characters for a character model), for a count of `n`. */
const unit = (model, n) => t(`unit.${model.config.tokenizer === 'chars' ? 'character' : 'token'}${n === 1 ? '' : 's'}`);

// ---- controls → state ----

/** The precision table's header cells: where each storage format rounds p to 0. */
function showThresholds() {
  for (const th of THRESHOLDS) {
    const cell = $(`t-${th.format}`);
    const sup = document.createElement('sup');
    sup.textContent = `−${-th.log2P}`;
    const ln = document.createElement('span');
    ln.className = 'muted';
    ln.textContent = `ln p ≤ ${fixed(th.lnPShown, 2)}`;
    cell.replaceChildren('2', sup, document.createElement('br'), ln);
  }
}

/** The model's vocabulary size: top-k's range and the figure beside it. */
function showModel(model) {
  $('topK').max = String(model.config.vocabSize);
  $('vocab-size').textContent = integer(model.config.vocabSize);
}

/** The sliders, the seed and the two radio groups write the state; the panel follows. */
function bindSettings(ctx, refresh) {
  const { update } = ctx;
  for (const key of ['temperature', 'topK', 'topP', 'minP', 'precisionT']) {
    $(key).addEventListener('input', () => { update({ [key]: Number($(key).value) }); ctx.chain.slidersMoved(); refresh(); });
  }
  $('seed').addEventListener('change', () => {
    const s = Number($('seed').value);
    if (Number.isInteger(s) && s >= 0 && s <= Number.MAX_SAFE_INTEGER) update({ seed: s });
    refresh();
  });
  $('new-seed').addEventListener('click', () => {
    update({ seed: crypto.getRandomValues(new Uint32Array(1))[0] });
    refresh();
  });
  for (const r of document.querySelectorAll('input[name=output]')) {
    r.addEventListener('change', () => { update({ output: r.value }); refresh(); });
  }
  for (const r of document.querySelectorAll('input[name=show]')) {
    r.addEventListener('change', () => { update({ show: r.value }); refresh(); });
  }
}

/** Another prompt: the text generated after the old one goes. */
function bindPrompt(ctx, out, refresh) {
  const { state, update } = ctx;
  $('prompt').addEventListener('input', () => {
    update({ prompt: $('prompt').value });
    out.generated = [];
    out.chat = null;
    renderOutput(state, out);
    showPromptStats(ctx);
    refresh();
  });
  showPromptStats(ctx);
}

/** "As a chat message": offered when the model has a chat template; the text so far goes. */
function bindChat(ctx, out, refresh) {
  const { state, update } = ctx;
  showChat(ctx);
  $('chat').addEventListener('change', () => {
    update({ chat: $('chat').checked ? 1 : 0 });
    out.generated = [];
    out.chat = null;
    renderOutput(state, out);
    refresh();
  });
}

function showChat({ state, model }) {
  $('chat-label').hidden = model.config.chatTemplate !== true;
  $('chat').checked = state.chat === 1;
}

/**
 * `out.chat`: the prompt through the model's chat template, when asked for (else null); the
 * output shows it, so the template's text is there to read. False if the template failed
 * (the line under the output says why): then nothing is generated from the prompt as typed.
 */
async function renderChat({ lab, state, model }, out) {
  if (!chatOn(state, model)) {
    if (out.chat !== null) { out.chat = null; renderOutput(state, out); }
    return true;
  }
  if (out.chat !== null && out.chatOf === state.prompt) return true;
  const prompt = state.prompt;
  try {
    const { text } = await lab.call('chat', { prompt });
    if (prompt !== state.prompt) return true; // a newer prompt is on its way
    Object.assign(out, { chat: text, chatOf: prompt });
  } catch (e) {
    out.chat = null;
    renderOutput(state, out);
    fillNodes($('gen-info'), 'chat.failed', {}, { error: errorNode(e) });
    return false;
  }
  renderOutput(state, out);
  return true;
}

/** "This text is N tokens (M per word)": the prompt's length under the loaded tokenizer. */
async function showPromptStats({ lab, state, model }) {
  const prompt = state.prompt;
  let s;
  try {
    s = await lab.call('tokenStats', { text: prompt });
  } catch {
    $('prompt-stats').textContent = ''; // the panel below says why the prompt cannot be read
    return;
  }
  if (prompt !== state.prompt) return;
  $('prompt-stats').textContent = s.perWord === undefined
    ? t('prompt.statsNoWords', { n: integer(s.tokens), unit: unit(model, s.tokens) })
    : t('prompt.stats', { n: integer(s.tokens), unit: unit(model, s.tokens), perWord: fixed(s.perWord, 2) });
}

// ---- the output text ----

function renderOutput(state, out) {
  $('output-prompt').textContent = out.chat ?? state.prompt;
  const spans = out.generated.map((g, i) => tokenSpan(g, i));
  $('output-gen').replaceChildren(...spans);
}

/** One generated token, tinted by its surprisal, its figures in the tooltip. */
function tokenSpan(g, i) {
  const span = document.createElement('span');
  // The output is English (lang="en"); its tooltip is in the page's language, the token
  // inside it English again.
  if (lang === 'en') span.textContent = g.ch;
  else { span.lang = lang; span.append(english(g.ch)); }
  span.tabIndex = -1;
  span.dataset.i = String(i);
  const surprisal = -g.logProb;
  // 0 nats → transparent, ≥ 6 nats → full tint.
  span.style.setProperty('--s', String(Math.min(1, surprisal / 6)));
  span.className = 'tok';
  span.title = describe(g);
  return span;
}
const describeParams = (g) => {
  const s = -g.logProb;
  return { nats: fixed(s, 2), bits: fixed(s / Math.LN2, 2), p: precision(Math.exp(g.logProb), 3) };
};
const describe = (g) => t('token.describe', { token: JSON.stringify(g.ch), ...describeParams(g) });

/** A token's figures below the text, on hover or focus; the arrow keys move between tokens. */
function bindTokenInfo(out) {
  const showInfo = (i) => {
    const g = out.generated[i];
    if (g) fillNodes($('token-info'), 'token.describe', describeParams(g), { token: english(JSON.stringify(g.ch)) });
  };
  const tokenAt = (e) => e.target.closest?.('[data-i]');
  $('output-gen').addEventListener('mouseover', (e) => { if (tokenAt(e)) showInfo(Number(tokenAt(e).dataset.i)); });
  $('output-gen').addEventListener('focusin', (e) => { if (tokenAt(e)) showInfo(Number(tokenAt(e).dataset.i)); });
  $('output').addEventListener('keydown', (e) => {
    if (!['ArrowLeft', 'ArrowRight', 'Home', 'End'].includes(e.key) || out.generated.length === 0) return;
    e.preventDefault();
    const cur = Number(document.activeElement?.dataset?.i ?? -1);
    let i = e.key === 'ArrowLeft' ? cur - 1 : e.key === 'ArrowRight' ? cur + 1 : e.key === 'Home' ? 0 : out.generated.length - 1;
    i = Math.max(0, Math.min(out.generated.length - 1, i));
    $('output-gen').children[i]?.focus();
  });
}

// ---- generation ----

/** Generate, Step, Stop and Clear; the worker's tokens are appended as they arrive. */
function bindGeneration(ctx, out, refresh) {
  const { lab, state } = ctx;
  lab.onTokens = ({ tokens }) => {
    const start = out.generated.length;
    for (const t of tokens) out.generated.push({ ch: t.text, logProb: t.logProb });
    $('output-gen').append(...out.generated.slice(start).map((g, k) => tokenSpan(g, start + k)));
  };
  $('generate').addEventListener('click', () => generate(ctx, out, state.tokens, refresh));
  $('step').addEventListener('click', () => generate(ctx, out, 1, refresh));
  $('stop').addEventListener('click', () => lab.call('stop'));
  $('clear').addEventListener('click', () => { out.generated = []; renderOutput(state, out); refresh(); });
}

/** `n` tokens more, then a line saying how many and how fast. */
async function generate(ctx, out, n, refresh) {
  const { lab, state, model } = ctx;
  if (out.generating) return;
  out.generating = true;
  setBusy(true);
  announce(t('announce.generating'));
  const t0 = performance.now();
  const before = out.generated.length;
  try {
    if (!await renderChat({ lab, state, model }, out)) {
      announce(t('chat.notGenerated'));
      return;
    }
    // The sliders' chain generates as `sample` does; a chain of the list, through the workbench.
    const chain = slidersChain(state) ? null : ctx.chain.chain();
    const r = await lab.call('generate', { text: contextText(state, out), options: samplerOptions(state), chain, output: state.output, tokens: n });
    performance.clearMeasures('generate'); // the last one only (benches/large-vocab.mjs reads it)
    performance.measure('generate', { start: t0, detail: r.timing });
    const made = out.generated.length - before;
    const secs = (performance.now() - t0) / 1000;
    $('gen-info').textContent = t('gen.info', { n: made, unit: unit(model, made), secs: fixed(secs, 2), rate: fixed(made / secs, 0),
      stopped: r.stopped ? t('gen.stopped') : r.ended ? t(model.eos.includes(r.endToken) ? 'gen.endedEos' : 'gen.endedBos', { id: String(r.endToken), token: model.labels[r.endToken] ?? '' }) : '' });
    announce(t(r.stopped ? 'announce.generationStopped' : 'announce.generationFinished', { n: made, unit: unit(model, made) }));
  } catch (e) {
    fillNodes($('gen-info'), 'gen.failed', {}, { error: errorNode(e) });
    announceError(e);
  } finally {
    out.generating = false;
    setBusy(false);
    refresh();
  }
}

/** While generating only Stop works; keyboard focus follows to it and back, never to the page. */
function setBusy(busy) {
  const focused = document.activeElement;
  $('generate').disabled = busy;
  $('step').disabled = busy;
  $('stop').disabled = !busy;
  if (busy && (focused === $('generate') || focused === $('step'))) $('stop').focus();
  if (!busy && focused === $('stop')) $('generate').focus();
}

// ---- the panels of the next token ----

/**
 * Asks the worker for the next token's figures and shows them; a late answer is dropped. The
 * bars, the stats and the chain come first; the identity and precision cards (several passes of
 * exp over V) follow in a second reply, each card `aria-busy` until its figures are in. A card
 * the instructor hid (`hide=`) is not computed.
 */
async function refreshPanel(ctx, out, panel) {
  const { lab, state } = ctx;
  showControls(state);
  const seq = ++panel.seq;
  const t0 = performance.now();
  const args = { text: contextText(state, out), options: samplerOptions(state), output: state.output, top: TOP };
  const shown = { identity: !hidden(state).has('identity'), precision: !hidden(state).has('precision') };
  const bars = lab.call('panel', { ...args, chain: ctx.chain.chain() });
  // The experiments depend on the context, the output, T and the stored T only: after a filter
  // moved, the cards already show them.
  const asked = { ...args, ...shown, options: { temperature: args.options.temperature }, precisionT: state.precisionT };
  const key = JSON.stringify(asked);
  const same = panel.experiments?.key === key && panel.experiments.model === ctx.model;
  const figures = same ? null : lab.call('experiments', asked);
  figures?.catch(() => {}); // a failure is the bars' too, and shown with them
  if (!same) panel.experiments = null;
  if (figures) for (const part of ['identity', 'precision']) $(`${part}-title`).parentElement.setAttribute('aria-busy', 'true');
  let r;
  try {
    r = await bars;
  } catch (e) {
    if (seq === panel.seq) failed(e);
    return;
  }
  if (seq !== panel.seq) return; // a newer request is on its way
  const order = Array.from(r.top); // the TOP most likely ids under the model, best first
  if (r.chain.error) ctx.chain.failed(r.chain.error);
  else ctx.chain.show(r.chain, ctx.model.labels);
  // With a chain of the list, the bars show its final distribution and which step cut each id.
  renderNextToken(ctx, slidersChain(state) || r.chain.error ? r : { ...r, ...r.chain }, order);
  ctx.weights.refresh();
  panel.order = order;
  // The last panel's cost, with the worker's share in `detail` (benches/large-vocab.mjs reads it).
  performance.clearMeasures('panel');
  performance.measure('panel', { start: t0, detail: r.timing });
  performance.clearMeasures('experiments');
  if (!figures) {
    // The cards are current: the experiments are done when the bars are.
    performance.measure('experiments', { start: t0, detail: { forward: 0, experiments: 0 } });
    return;
  }
  let e;
  try {
    e = await figures;
  } catch (error) {
    if (seq === panel.seq) failed(error);
    return;
  }
  if (seq !== panel.seq) return;
  if (e.identity) renderIdentity(ctx, { identity: e.identity, greedy: r.greedy }, order);
  if (e.precision) renderPrecision(state, e);
  panel.experiments = { key, model: ctx.model };
  for (const part of ['identity', 'precision']) $(`${part}-title`).parentElement.removeAttribute('aria-busy');
  performance.measure('experiments', { start: t0, detail: e.timing });
}

/** A panel the worker could not compute: the reason where the bars go. */
function failed(e) {
  fillNodes($('bars-text'), 'panel.failed', {}, { error: errorNode(e) });
  $('bars').replaceChildren();
  $('bars-data').replaceChildren();
  for (const part of ['identity', 'precision']) $(`${part}-title`).parentElement.removeAttribute('aria-busy');
}

/** Why an id was cut: `sample`'s reason, or the chain's step (its number from 1 and kind). */
const cutNote = (r, code) => {
  if (!r.steps) return t(CUT_KEYS[code]);
  return code === 255 ? t('cut.input') : t('three.cut', { n: code });
};

/**
 * The bars of the top ids (values, log-probabilities or probabilities), the tail, and the stats.
 * The worker sends the arrays' entries at the top ids only: row k is id order[k].
 */
function renderNextToken({ state, model }, r, order) {
  const v = r.vocabSize;
  const show = state.show;
  const series = show === 'probs' ? r.probs : show === 'logProbs' ? r.logProbs : r.values;
  // The scale's ends: the smallest and largest finite entry of all V, from the wasm.
  const [lo, hi] = (show === 'logProbs' ? r.logProbRange : r.valueRange) ?? [0, 0];
  const frac = (x) => show === 'probs' ? x : (Number.isFinite(x) ? (x - lo) / (hi - lo || 1) : 0);
  const fmt = (x) => show === 'probs' ? precision(x, 3) : fixed(x, 3);
  const rows = order.map((i, k) => ({
    label: model.labels[i],
    value: fmt(series[k]),
    fraction: frac(series[k]),
    note: r.cut[k] ? `(${cutNote(r, r.cut[k])})` : '',
    muted: r.cut[k] !== 0,
  }));
  if (r.rest > 0) {
    // The tail as one row: what top-p and min-p cut is visible as a number.
    rows.push({
      label: t('bars.other', { n: r.rest }), plain: true, value: show === 'probs' ? precision(r.restMass, 3) : t('bars.cut', { n: r.restCut }),
      fraction: show === 'probs' ? r.restMass : 0, muted: true, note: show === 'probs' ? `(${t('bars.cut', { n: r.restCut })})` : '',
    });
  }
  renderBars($('bars'), rows, { table: $('bars-data'), caption: t(`bars.caption.${show}`), column: t(`show.column.${show}`) });
  fillNodes($('bars-text'), 'bars.text', { top: order.length, total: v, unit: unit(model, v), rest: r.rest,
    mass: precision(r.restMass, 3), cut: r.restCut }, { drawn: english(model.labels[r.token]) });
  $('entropy').textContent = t('stats.entropyValue', { nats: fixed(r.entropy, 3), bits: fixed(r.entropyBits, 3) });
  $('perplexity').textContent = fixed(r.perplexity, 2);
  $('lse').textContent = fixed(r.logsumexp, 4) + (state.output === 'logSoftmax' ? t('stats.lseNormalised') : '');
  $('kept').textContent = t('stats.keptValue', { kept: r.kept, total: v });
}

/** The identity panel: the two distributions, side by side, for the top ids. */
function renderIdentity({ state, model }, r, order) {
  // At T = 0, whether the two greedy picks agree, as the wasm found (tokens stay English).
  const [fromZ, fromLsm] = r.greedy;
  if (state.temperature !== 0) {
    $('identity-t').textContent = t('identity.atT', { T: fixed(state.temperature, 2) });
  } else {
    const picks = document.createElement('span');
    if (fromZ === fromLsm) fillNodes(picks, 'identity.greedySame', {}, { token: english(model.labels[fromZ]) });
    else fillNodes(picks, 'identity.greedyDiffer', {}, { a: english(model.labels[fromZ]), b: english(model.labels[fromLsm]) });
    $('identity-t').replaceChildren(`${t('identity.greedy')} `, picks, ` ${t('identity.computed')}`);
  }
  const idRows = (dist) => order.slice(0, 6).map((i, k) => { // row k of dist is id order[k]
    const li = document.createElement('li');
    li.append(english(model.labels[i]), `  ${precision(dist[k], 7)}`);
    return li;
  });
  $('id-logits').replaceChildren(...idRows(r.identity.fromLogits));
  $('id-lsm').replaceChildren(...idRows(r.identity.fromLogSoftmax));
  $('maxdiff').textContent = exponential(r.identity.maxAbsDiff, 2);
}

/** The precision panel: how many probabilities each storage format rounds to 0, and the verdicts. */
function renderPrecision(state, r) {
  const { zeros, zerosAfter, minLogProbShown, storesZeros } = r.precision;
  for (const [key, id] of [['f32', 'f32'], ['bf16', 'bf16'], ['f16', 'f16'], ['logProbs', 'log']]) {
    $(`z-${id}`).textContent = integer(zeros[key]);
    $(`r-${id}`).textContent = integer(zerosAfter[key]);
  }
  // Narrowest format first: float16, bfloat16, float32. The wasm's counts decide each verdict,
  // and it rounds the minimum so that, printed beside the thresholds, the two agree.
  const verdicts = THRESHOLDS.map((th, i) => t(storesZeros[i] ? 'precision.storesZeros' : 'precision.keepsAll',
    { format: FORMAT_NAMES[th.format], lnP: fixed(th.lnPShown, 2) })).reverse();
  $('precision-note').textContent = t('precision.note', { T: fixed(state.precisionT, 2), min: fixed(minLogProbShown, 2), verdicts: verdicts.join('; ') });
}

// ---- many draws ----

/** 1000 draws of the next token, counted against the probabilities, for the ids the panel shows. */
function bindDraws(ctx, out, panel) {
  const { lab, state, model } = ctx;
  $('draw').addEventListener('click', async () => {
    if ($('draw').getAttribute('aria-disabled') === 'true') return;
    // aria-disabled, not disabled: the button keeps keyboard focus while the draws run.
    $('draw').setAttribute('aria-disabled', 'true');
    try {
      const chain = slidersChain(state) ? null : ctx.chain.chain();
      const order = panel.order.length ? panel.order : [...Array(TOP).keys()];
      // Reported for `order` only: row k is id r.ids[k].
      const r = await lab.call('draws', { text: contextText(state, out), options: samplerOptions(state), chain, output: state.output, n: 1000, ids: order });
      const rows = [...r.ids.keys()].filter((k) => r.probs[k] > 0 || r.counts[k] > 0);
      const max = Math.max(...rows.map((k) => Math.max(r.counts[k] / r.n, r.probs[k])), 1e-9);
      renderBars($('hist'), rows.map((k) => ({
        label: model.labels[r.ids[k]],
        value: t('draws.value', { count: r.counts[k], expected: fixed(r.expected[k], 1) }),
        fraction: r.counts[k] / r.n / max,
        marker: r.probs[k] / max,
      })), { table: $('hist-data'), caption: t('draws.caption'), column: t('draws.column') });
      $('hist-text').textContent = t('draws.summary', { n: r.n });
      announce(t('draws.summary', { n: r.n }));
    } catch (e) {
      fillNodes($('hist-text'), 'draws.failed', {}, { error: errorNode(e) });
    } finally {
      $('draw').removeAttribute('aria-disabled');
    }
  });
}
