// The loss calculator (view=train): one output vector, from the model after the prompt or typed,
// the four pipelines' losses and gradients on it, and the classification-vs-generation table.
// It renders what the worker computed.
//
// Where things are: `setupLossCalculator` wires it together. The controls: `showLossControls`,
// `showTargets`, `bindCalculatorControls`. The worker's answer: `refreshCalc`, then the panels
// `renderVector`, `renderPipelines` (one `pipelineCard` each) and `renderClassify`.

import { renderBars } from './bars.js';
import { bindControl } from './state.js';
import { pipeline, pipelineNames, pipelineNote, pipelineTitle } from './pipelines.js';
import { t, fixed, precision, exponential, integer, english, errorNode, fillNodes } from './i18n.js';
import { readTyped, fromUrl, toUrl } from './values.js';

const $ = (id) => document.getElementById(id);

/** The classification table's rows, as `classify` names them. */
const REPRESENTATION_KEYS = {
  logits: 'repr.logits', logProbs: 'repr.logProbs', f32: 'repr.f32', bf16: 'repr.bf16', f16: 'repr.f16',
};
const TOP = 8;

/** Shows the calculator's part of the state in its controls. */
export function showLossControls(state) {
  for (const r of document.querySelectorAll('input[name=lossSource]')) r.checked = r.value === state.lossSource;
  for (const r of document.querySelectorAll('input[name=reduction]')) r.checked = r.value === state.reduction;
  for (const el of document.querySelectorAll('[data-source]')) el.hidden = el.dataset.source !== state.lossSource;
  $('l-prompt').value = state.prompt;
  bindControl($('labelSmoothing'), 'labelSmoothing');
  // The box in the page's notation; rewritten only when the state is another vector, not as it is typed.
  if (toUrl($('l-logits').value) !== state.logits) $('l-logits').value = fromUrl(state.logits);
  $('targetId').value = String(state.targetId);
  $('labelSmoothing').value = String(state.labelSmoothing);
  $('labelSmoothing-value').textContent = fixed(state.labelSmoothing, 2);
  $('c-temperature').value = String(Math.max(0.05, state.temperature));
  $('c-temperature-value').textContent = fixed(Math.max(0.05, state.temperature), 2);
}

/**
 * `ctx` = { lab (the worker), state (the page's state), update, model }; `model`: `{ config,
 * labels, vocab }` of the model loaded now (main.js replaces them on a switch).
 */
export function setupLossCalculator(ctx) {
  const calc = { seq: 0 };   // the latest request: an older answer is dropped
  const refresh = () => refreshCalc(ctx, calc);
  showTargets(ctx);
  bindCalculatorControls(ctx, refresh);
  return {
    refresh,
    /** Another model: the calculator's vector now comes from it. */
    modelChanged: () => {
      showTargets(ctx);
      if (ctx.state.view === 'train') refresh();
    },
  };
}

// ---- controls → state ----

const targetOption = (text, label, id) => {
  const o = document.createElement('option');
  o.value = text;
  o.textContent = t('target.option', { label, id: String(id) });
  return o;
};

/**
 * The target's choices: every character of a character model; for a subword model the 20
 * most likely next tokens (from the last answer) and the current target, or type one.
 */
function showTargets({ state, update, model }, choices = []) {
  const targetSelect = $('target');
  const vocab = [...model.vocab];
  if (vocab.length > 0) {
    targetSelect.replaceChildren(...vocab.map((ch, i) => targetOption(ch, model.labels[i], i)));
    if (!vocab.includes(state.target)) update({ target: vocab[0] });
  } else {
    const known = choices.some((c) => c.text === state.target);
    targetSelect.replaceChildren(...choices.map((c) => targetOption(c.text, model.labels[c.id], c.id)),
      ...(known || !state.target ? [] : [targetOption(state.target, JSON.stringify(state.target), '?')]));
  }
  targetSelect.value = state.target;
  $('target-text').value = state.target;
}

/** Every control of the calculator writes the state, then asks for the figures again. */
function bindCalculatorControls({ update }, refresh) {
  for (const r of document.querySelectorAll('input[name=lossSource]')) {
    r.addEventListener('change', () => { update({ lossSource: r.value }); refresh(); });
  }
  for (const r of document.querySelectorAll('input[name=reduction]')) {
    r.addEventListener('change', () => { update({ reduction: r.value }); refresh(); });
  }
  $('l-prompt').addEventListener('input', () => { update({ prompt: $('l-prompt').value }); refresh(); });
  $('l-logits').addEventListener('input', () => { update({ logits: toUrl($('l-logits').value).slice(0, 2000) }); refresh(); });
  $('target').addEventListener('change', () => { update({ target: $('target').value }); refresh(); });
  $('target-text').addEventListener('change', () => { update({ target: $('target-text').value.slice(0, 100) }); refresh(); });
  $('targetId').addEventListener('change', () => {
    const t = Number($('targetId').value);
    if (Number.isInteger(t) && t >= 0 && t <= 1 << 20) update({ targetId: t });
    refresh();
  });
  $('labelSmoothing').addEventListener('input', () => { update({ labelSmoothing: Number($('labelSmoothing').value) }); refresh(); });
  $('c-temperature').addEventListener('input', () => { update({ temperature: Number($('c-temperature').value) }); refresh(); });
}

// ---- the worker's answer → the panels ----

/** Asks the worker for the vector's losses and gradients and shows them; a late answer is dropped. */
async function refreshCalc(ctx, calc) {
  const { lab, state } = ctx;
  showLossControls(state);
  const seq = ++calc.seq;
  let r;
  try {
    const typed = state.lossSource === 'typed' ? readTyped($('l-logits').value) : new Float32Array(0);
    r = await lab.call('lossPanel', {
      source: state.lossSource, text: state.prompt, target: state.target, logits: typed,
      targetId: state.targetId, labelSmoothing: state.labelSmoothing, reduction: state.reduction,
      pipelines: pipelineNames(), temperature: Math.max(0.05, state.temperature),
    });
  } catch (e) {
    if (seq !== calc.seq) return;
    fillNodes($('l-error'), 'calc.failed', {}, { error: errorNode(e) });
    $('l-error').hidden = false;
    return;
  }
  if (seq !== calc.seq) return;
  $('l-error').hidden = !r.targetError;
  if (r.targetError) fillNodes($('l-error'), 'calc.failed', {}, { error: errorNode(r.targetError) });
  const { model } = ctx;
  const label = (i) => (r.labels ? model.labels[i] : String(i));
  if (r.labels && !model.vocab) showTargets(ctx, r.choices);
  const order = Array.from(r.probs.keys()).sort((a, b) => r.probs[b] - r.probs[a] || a - b);
  const ids = order.slice(0, TOP);
  if (!ids.includes(r.target) && r.target < r.classes) ids.push(r.target); // a typed id past z's end: the cards say so
  renderVector(model, r, ids);
  renderPipelines(state, r, ids, label);
  renderClassify(r, label);
}

/** What the vector is, and its top ids: z, log-probabilities and probabilities. */
function renderVector(model, r, ids) {
  // The target token is the (English) model's: marked so.
  if (r.labels) {
    fillNodes($('l-what'), model.vocab ? 'calc.whatChars' : 'calc.whatTokens', { n: r.n, C: r.classes, top: TOP },
      { target: english(model.labels[r.target]) });
  } else {
    $('l-what').textContent = t('calc.whatTyped', { C: r.classes, target: String(r.target) });
  }
  $('l-vector').tBodies[0].replaceChildren(...ids.map((i) => {
    const tr = document.createElement('tr');
    if (i === r.target) tr.className = 'target-row';
    for (const text of [String(i), r.labels ? english(model.labels[i]) : '', fixed(r.values[i], 4),
      fixed(r.logProbs[i], 4), precision(r.probs[i], 4)]) {
      const td = document.createElement('td');
      td.append(text);
      tr.append(td);
    }
    return tr;
  }));
}

/** The note on the gradients, and one card per pipeline. */
function renderPipelines(state, r, ids, label) {
  const denominator = r.pipelines.find((p) => !p.error)?.denominator ?? 1;
  const over = state.reduction === 'mean' && r.n > 1 ? t('grad.mean', { n: r.n }) : state.reduction === 'sum' ? t('grad.sum') : '';
  $('grad-note').textContent = t('grad.note', { N: denominator, over, eps: fixed(state.labelSmoothing, 2), C: r.classes });
  $('pipelines').replaceChildren(...r.pipelines.map((p) => pipelineCard(p, r, ids, label, state.reduction)));
}

/** The classification-vs-generation table: one row per representation of the vector. */
function renderClassify(r, label) {
  $('classify').tBodies[0].replaceChildren(...r.classify.map((c) => {
    const tr = document.createElement('tr');
    const th = document.createElement('th');
    th.scope = 'row';
    th.textContent = t(REPRESENTATION_KEYS[c.representation]);
    tr.append(th);
    for (const text of [label(c.argmax), exponential(c.maxDiff, 2), integer(c.lost), integer(c.zerosAtT)]) {
      const td = document.createElement('td');
      td.textContent = text;
      tr.append(td);
    }
    return tr;
  }));
}

/**
 * One pipeline's card: its verdict, its loss (`reduction` over `r.n` rows) and the last row's
 * gradient d loss/dz over the ids shown, as signed bars and as a text alternative.
 */
function pipelineCard(p, r, ids, label, reduction) {
  const card = document.createElement('section');
  card.className = `pipeline ${pipeline(p.pipeline).correct ? 'ok' : 'bad'}`;
  card.dataset.pipeline = p.pipeline;
  const h = document.createElement('h3');
  h.textContent = pipelineTitle(p.pipeline);
  card.append(h);
  const v = document.createElement('p');
  v.className = 'loss-value';
  if (p.error) {
    fillNodes(v, 'pipeline.error', {}, { error: errorNode(p.error) });
    v.classList.add('error');
    card.append(v);
    return card;
  }
  v.textContent = t('loss.value', { loss: fixed(p.loss, 4) }) + (r.n > 1 ? t(`loss.rows.${reduction}`, { n: r.n, row: fixed(p.row, 4) }) : '') +
    (p.pipeline === 'nllOnLogits' ? t('loss.rawLogit') : '');
  const bars = document.createElement('div');
  bars.className = 'bars';
  bars.setAttribute('role', 'img');
  const max = Math.max(...ids.map((i) => Math.abs(p.grad[i])), 1e-12);
  renderBars(bars, ids.map((i) => ({
    label: label(i), plain: !r.labels, value: exponential(p.grad[i], 2), fraction: p.grad[i] / max, signed: true,
  })));
  bars.setAttribute('aria-label', t('grad.aria', { values: ids.map((i) => `${label(i)} ${exponential(p.grad[i], 2)}`).join('; ') }));
  const note = document.createElement('p');
  note.className = 'muted';
  note.textContent = pipelineNote(p.pipeline, r.ceOnSoftmax);
  card.append(v, bars, note);
  return card;
}
