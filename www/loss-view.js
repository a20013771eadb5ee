// The loss calculator (view=train): one output vector, from the model after the prompt or typed,
// the four pipelines' losses and gradients on it, and the classification-vs-generation table.
// It renders what the worker computed.

import { renderBars } from './bars.js';
import { PIPELINES } from './state.js';
import { PIPELINE_INFO } from './pipelines.js';
import { parseValues } from './pkg/logitlab.js';

const $ = (id) => document.getElementById(id);

/** The classification table's rows, as `classify` names them. */
const REPRESENTATION_NAMES = {
  logits: 'logits z', logProbs: 'log-probs (float32)', f32: 'probabilities (float32)',
  bf16: 'probabilities (bfloat16)', f16: 'probabilities (float16)',
};
const TOP = 8;

/** Shows the calculator's part of the state in its controls. */
export function showLossControls(state) {
  for (const r of document.querySelectorAll('input[name=lossSource]')) r.checked = r.value === state.lossSource;
  for (const r of document.querySelectorAll('input[name=reduction]')) r.checked = r.value === state.reduction;
  for (const el of document.querySelectorAll('[data-source]')) el.hidden = el.dataset.source !== state.lossSource;
  $('l-prompt').value = state.prompt;
  $('l-logits').value = state.logits;
  $('targetId').value = String(state.targetId);
  $('labelSmoothing').value = String(state.labelSmoothing);
  $('labelSmoothing-value').textContent = state.labelSmoothing.toFixed(2);
  $('c-temperature').value = String(Math.max(0.05, state.temperature));
  $('c-temperature-value').textContent = Math.max(0.05, state.temperature).toFixed(2);
}

/** `model`: `{ config, labels, vocab }` of the model loaded now (main.js replaces them on a switch). */
export function setupLossCalculator({ lab, state, update, model }) {
  const targetSelect = $('target');
  const option = (text, label, id) => {
    const o = document.createElement('option');
    o.value = text;
    o.textContent = `${label}  (id ${id})`;
    return o;
  };
  /**
   * The target's choices: every character of a character model; for a subword model the 20
   * most likely next tokens (from the last answer) and the current target, or type one.
   */
  function showTargets(choices = []) {
    const vocab = [...model.vocab];
    if (vocab.length > 0) {
      targetSelect.replaceChildren(...vocab.map((ch, i) => option(ch, model.labels[i], i)));
      if (!vocab.includes(state.target)) update({ target: vocab[0] });
    } else {
      const known = choices.some((c) => c.text === state.target);
      targetSelect.replaceChildren(...choices.map((c) => option(c.text, model.labels[c.id], c.id)),
        ...(known || !state.target ? [] : [option(state.target, JSON.stringify(state.target), '?')]));
    }
    targetSelect.value = state.target;
    $('target-text').value = state.target;
  }
  showTargets();

  // ---- the loss calculator and the classification table ----
  let calcSeq = 0;
  async function refreshCalc() {
    showLossControls(state);
    const seq = ++calcSeq;
    let r;
    try {
      const typed = state.lossSource === 'typed' ? parseValues(state.logits) : new Float32Array(0);
      r = await lab.call('lossPanel', {
        source: state.lossSource, text: state.prompt, target: state.target, logits: typed,
        targetId: state.targetId, labelSmoothing: state.labelSmoothing, reduction: state.reduction,
        pipelines: PIPELINES, temperature: Math.max(0.05, state.temperature),
      });
    } catch (e) {
      if (seq !== calcSeq) return;
      $('l-error').textContent = e.message;
      $('l-error').hidden = false;
      return;
    }
    if (seq !== calcSeq) return;
    $('l-error').hidden = true;
    renderCalc(r);
  }

  function renderCalc(r) {
    const label = (i) => (r.labels ? model.labels[i] : String(i));
    if (r.labels && !model.vocab) showTargets(r.choices);
    const order = Array.from(r.probs.keys()).sort((a, b) => r.probs[b] - r.probs[a] || a - b);
    const ids = order.slice(0, TOP);
    if (!ids.includes(r.target)) ids.push(r.target);
    $('l-what').textContent = r.labels
      ? `${r.n} predictions: each ${model.vocab ? 'character' : 'token'} of the context predicts the next one, and the last predicts your target ${model.labels[r.target]}. The table and the gradient bars show that last row (${r.classes} ids; top ${TOP} by probability and the target).`
      : `One row of ${r.classes} logits, target id ${r.target}.`;
    $('l-vector').tBodies[0].replaceChildren(...ids.map((i) => {
      const tr = document.createElement('tr');
      if (i === r.target) tr.className = 'target-row';
      for (const text of [String(i), r.labels ? model.labels[i] : '', r.values[i].toFixed(4),
        r.logProbs[i].toFixed(4), r.probs[i].toPrecision(4)]) {
        const td = document.createElement('td');
        td.textContent = text;
        tr.append(td);
      }
      return tr;
    }));

    const denominator = r.pipelines.find((p) => !p.error)?.denominator ?? 1;
    $('grad-note').textContent = `Here N = ${denominator}` +
      (state.reduction === 'mean' && r.n > 1 ? ` (the mean over the context's ${r.n} predictions)` : state.reduction === 'sum' ? ' (sum)' : '') +
      `, ε = ${state.labelSmoothing.toFixed(2)} and C = ${r.classes}. The bars below are the last row's d loss/dz.`;
    $('pipelines').replaceChildren(...r.pipelines.map((p) => {
      const info = PIPELINE_INFO[p.pipeline];
      const card = document.createElement('section');
      card.className = `pipeline ${info.ok ? 'ok' : 'bad'}`;
      card.dataset.pipeline = p.pipeline;
      const h = document.createElement('h3');
      h.textContent = `${info.name} ${info.ok ? '✓' : '✗'}`;
      card.append(h);
      const v = document.createElement('p');
      v.className = 'loss-value';
      if (p.error) {
        v.textContent = p.error;
        v.classList.add('error');
        card.append(v);
        return card;
      }
      v.textContent = `loss = ${p.loss.toFixed(4)}` + (r.n > 1 ? ` (${state.reduction} of ${r.n} rows; the last row's term: ${p.row.toFixed(4)})` : '') +
        (p.pipeline === 'nllOnLogits' ? ' — this is −z_y, a raw logit, not in nats' : '');
      const bars = document.createElement('div');
      bars.className = 'bars';
      bars.setAttribute('role', 'img');
      const max = Math.max(...ids.map((i) => Math.abs(p.grad[i])), 1e-12);
      renderBars(bars, ids.map((i) => ({
        label: label(i), value: p.grad[i].toExponential(2), fraction: p.grad[i] / max, signed: true,
      })));
      bars.setAttribute('aria-label', `d loss / dz for the last row: ${ids.map((i) => `${label(i)} ${p.grad[i].toExponential(2)}`).join(', ')}`);
      const note = document.createElement('p');
      note.className = 'muted';
      note.textContent = info.note(r.ceOnSoftmax);
      card.append(v, bars, note);
      return card;
    }));

    $('classify').tBodies[0].replaceChildren(...r.classify.map((c) => {
      const tr = document.createElement('tr');
      const th = document.createElement('th');
      th.scope = 'row';
      th.textContent = REPRESENTATION_NAMES[c.representation];
      tr.append(th);
      for (const text of [label(c.argmax), c.maxDiff.toExponential(2), String(c.never)]) {
        const td = document.createElement('td');
        td.textContent = text;
        tr.append(td);
      }
      return tr;
    }));
  }

  for (const r of document.querySelectorAll('input[name=lossSource]')) {
    r.addEventListener('change', () => { update({ lossSource: r.value }); refreshCalc(); });
  }
  for (const r of document.querySelectorAll('input[name=reduction]')) {
    r.addEventListener('change', () => { update({ reduction: r.value }); refreshCalc(); });
  }
  $('l-prompt').addEventListener('input', () => { update({ prompt: $('l-prompt').value }); refreshCalc(); });
  $('l-logits').addEventListener('input', () => { update({ logits: $('l-logits').value.slice(0, 2000) }); refreshCalc(); });
  targetSelect.addEventListener('change', () => { update({ target: targetSelect.value }); refreshCalc(); });
  $('target-text').addEventListener('change', () => { update({ target: $('target-text').value.slice(0, 100) }); refreshCalc(); });
  $('targetId').addEventListener('change', () => {
    const t = Number($('targetId').value);
    if (Number.isInteger(t) && t >= 0 && t <= 1 << 20) update({ targetId: t });
    refreshCalc();
  });
  $('labelSmoothing').addEventListener('input', () => { update({ labelSmoothing: Number($('labelSmoothing').value) }); refreshCalc(); });
  $('c-temperature').addEventListener('input', () => { update({ temperature: Number($('c-temperature').value) }); refreshCalc(); });

  return {
    refresh: refreshCalc,
    /** Another model: the calculator's vector now comes from it. */
    modelChanged: () => {
      showTargets();
      if (state.view === 'train') refreshCalc();
    },
  };
}
