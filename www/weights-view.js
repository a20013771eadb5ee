// The card "Weights in low precision": the loaded model against its quantised copy at the
// sampling view's context. The worker quantises (`model.quantize`) and compares
// (`compareModels`); every figure and which sentence holds come from the wasm, this file lays
// them out.

import { t, fixed, precision, exponential, integer, english, errorNode, fillNodes } from './i18n.js';
import { announce } from './announce.js';

const $ = (id) => document.getElementById(id);
const TYPE_NAMES = { q8_0: 'Q8_0', q4_0: 'Q4_0', q4_K: 'Q4_K' };
/** Bytes as megabytes, three significant digits. */
const mb = (bytes) => `${precision(bytes / 1e6, 3)} MB`;
/** A KL in nats: small ones in exponent form. */
const nats = (x) => (x !== 0 && x < 1e-3 ? exponential(x, 2) : fixed(x, 4));

/**
 * Wires the card. `context()`: the text the sampling view's next token is conditioned on.
 * Returns `{ refresh, modelChanged }`.
 */
export function setupWeights({ lab, model: initial }, context) {
  const card = { model: initial, copy: null, seq: 0, shown: null };
  $('quant-type').replaceChildren(...Object.entries(TYPE_NAMES).map(([value, name]) => new Option(name, value)));
  const type = () => $('quant-type').value;

  /** What quantising to the chosen type takes, or why this model cannot be quantised. */
  async function plan() {
    const seq = ++card.seq;
    try {
      const p = await lab.call('quantizePlan', { type: type() });
      if (seq !== card.seq) return;
      const name = TYPE_NAMES[type()];
      // Why matrices stay as they are, as the wasm counts them: quantised already, a position
      // embedding, or rows that do not divide into the blocks.
      const already = p.alreadyQuantized > 0 ? ` ${t('weights.memoryAlready', { n: integer(p.alreadyQuantized) })}` : '';
      const position = p.positionEmbeddings > 0 ? ` ${t('weights.memoryPosition')}` : '';
      const kept = p.undivided > 0 ? ` ${t('weights.memoryKept', { n: integer(p.undivided), type: name })}` : '';
      // No matrix would become the type: a "copy" would be the original, so none is made.
      const lead = p.quantized > 0 ? t('weights.memory', { type: name, weights: mb(p.weightBytes), needed: mb(p.neededBytes) })
        : t('weights.nothing', { type: name });
      $('quant-memory').textContent = lead + already + position + kept;
      $('quantize').disabled = p.quantized === 0;
    } catch (e) {
      if (seq !== card.seq) return;
      $('quant-memory').replaceChildren(errorNode(e));
      $('quantize').disabled = true;
    }
  }

  /** The two distributions at the context, side by side, and the figures. */
  async function compare() {
    if (!card.copy) return;
    // The figures depend on the context and the copy only: a slider that moves the sampler
    // leaves them as they are, and two passes over the context are not run again.
    const text = context();
    const key = `${card.copy} ${text}`;
    if (key === card.shown) return;
    card.shown = key;
    let r;
    try {
      r = await lab.call('compareModels', { text });
    } catch (e) {
      card.shown = null;
      fillNodes($('weights-status'), 'weights.failed', {}, { error: errorNode(e) });
      return;
    }
    if (key !== card.shown) return; // a newer context's answer is on its way
    const labels = card.model.labels;
    const name = TYPE_NAMES[card.copy];
    $('weights-status').textContent = '';
    $('weights-figures').textContent = t('weights.figures', {
      type: name, kl: nats(r.lastKl), n: integer(r.positions.length),
      agree: integer(r.positions.filter((p) => p.top1A === p.top1B).length), mean: nats(r.kl),
    });
    const top1 = document.createElement('span');
    const [a, b] = [r.positions.at(-1).top1A, r.positions.at(-1).top1B];
    if (r.sameTop1) fillNodes(top1, 'weights.sameTop1', {}, { token: english(labels[a]) });
    else fillNodes(top1, 'weights.differTop1', { type: name }, { a: english(labels[a]), b: english(labels[b]) });
    $('weights-figures').append(' ', top1);
    $('w-original-title').textContent = t('weights.original', { dtype: card.model.config.dtype ?? 'f32' });
    $('w-quantized-title').textContent = t('weights.quantized', { type: name });
    const list = (key, rank) => [...r.last].sort((x, y) => x[rank] - y[rank]).slice(0, 8).map((row) => {
      const li = document.createElement('li');
      li.append(english(labels[row.id]), `  ${precision(row[key], 4)}`);
      return li;
    });
    $('w-original').replaceChildren(...list('pA', 'rankA'));
    $('w-quantized').replaceChildren(...list('pB', 'rankB'));
    if (r.mostChanged.length === 0) {
      $('weights-changed').textContent = t('weights.noneChanged');
    } else {
      const items = document.createElement('span');
      r.mostChanged.forEach((row, k) => items.append(k ? ', ' : '', english(labels[row.id]), ` ${integer(row.rankA)} → ${integer(row.rankB)}`));
      fillNodes($('weights-changed'), 'weights.changed', {}, { list: items });
    }
    $('weights-result').hidden = false;
  }

  $('quant-type').addEventListener('change', plan);
  $('quantize').addEventListener('click', async () => {
    if ($('quantize').disabled) return;
    $('quantize').disabled = true;
    const chosen = type();
    $('weights-status').textContent = t('weights.working', { type: TYPE_NAMES[chosen] });
    try {
      await lab.call('quantize', { type: chosen });
      card.copy = chosen;
      card.shown = null;
      await compare();
      announce($('weights-figures').textContent);
    } catch (e) {
      fillNodes($('weights-status'), 'weights.failed', {}, { error: errorNode(e) });
    } finally {
      $('quantize').disabled = false;
    }
  });
  plan();

  return {
    /** The context changed: compare again, if there is a copy. */
    refresh: () => compare(),
    /** Another model: its copy went with the old one (the worker freed it). */
    modelChanged: (model) => {
      card.model = model;
      card.copy = null;
      card.shown = null;
      $('weights-result').hidden = true;
      $('weights-status').textContent = '';
      plan();
    },
  };
}
