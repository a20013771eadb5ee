// The page's whole UI state is one object; the URL query is its serialisation, so a link
// reproduces exactly what the student saw (the TensorFlow Playground habit). Query names match
// the JS options of `sample`: temperature, topK, topP, minP, seed, and so on.
//
// SCHEMA is the one description of that state: one row per key, with its default and what a
// value from the URL may be. Parsing and serialising both follow it; anything malformed in a URL
// falls back to the default. Numbers in the URL are dot-decimal in every language, and so are
// the typed vectors (2, 1, 0.5): the Vietnamese page shows them as 2; 1; 0,5 (values.js).

/** Things `hide=` can name. */
export const HIDEABLE = ['lang', 'verdicts', 'prompt', 'temperature', 'topK', 'topP', 'minP', 'seed',
  'output', 'tabs', 'chain', 'order', 'bars', 'identity', 'precision', 'weights', 'calibration', 'draws', 'formulas', 'share', 'stability',
  'calculator', 'classify', 'training', 'distillation'];

import { LANGUAGES } from './i18n.js';
import { chainFromUrl } from './pkg/logitlab.js';
import { pipelineNames, PRESETS } from './pipelines.js';

const number = (lo, hi) => ({ kind: 'number', lo, hi });
const integer = (lo, hi) => ({ kind: 'integer', lo, hi });
const choice = (...values) => ({ kind: 'choice', values });
const steps = (...values) => ({ kind: 'integer', lo: Math.min(...values), hi: Math.max(...values), values });
const text = (max) => ({ kind: 'text', max });   // at most max characters, else the default
const clip = (max) => ({ kind: 'clip', max });   // cut to max characters
const list = (values) => ({ kind: 'list', values });

/**
 * The schema, built on first use: its lists of pipelines and presets come from the wasm, which
 * main.js instantiates before it reads the state.
 */
let schema;
const SCHEMA = () => (schema ??= rows(pipelineNames(), PRESETS().map((p) => p.name)));

const rows = (pipelines, presets) => [
  // The sampling lab.
  ['view', 'sample', choice('sample', 'numbers', 'train')],
  ['prompt', 'ROMEO:\n', clip(2000)],
  ['chat', 0, integer(0, 1)],                          // 1: the prompt as a chat message
  ['temperature', 0.8, number(0, 3)],                  // T; 0 = greedy
  ['topK', 0, integer(0, 1 << 20)],                    // 0 = off
  ['topP', 1, number(0, 1)],                           // 1 = off
  ['minP', 0, number(0, 1)],                           // 0 = off
  ['chain', '', { kind: 'chain' }],                    // a sampler chain's URL form (chainToUrl); '' = the four sliders
  ['seed', 42, integer(0, Number.MAX_SAFE_INTEGER)],
  ['output', 'logits', choice('logits', 'logSoftmax')], // what the model's forward returns
  ['show', 'probs', choice('logits', 'logProbs', 'probs')], // what the bars show
  ['tokens', 200, integer(1, 5000)],                   // how many tokens Generate writes
  ['precisionT', 1, number(0.05, 3)],                  // the precision view's storing temperature
  // "Your own logits" (view=numbers): the typed vector z (x*n repeats x n times), in the URL's
  // notation, and T.
  ['numbersLogits', '2, 1, 0.5, -1, -3', clip(2000)],
  ['numbersTemperature', 1, number(0, 3)],
  // The loss calculator (view=train): the next token after the prompt, or a typed vector.
  ['lossSource', 'model', choice('model', 'typed')],
  ['target', 'I', { kind: 'pattern', re: /^[^]{1,100}$/ }], // one token: a character, or a subword
  ['logits', '2, 1, 0.5, -1, -3', clip(2000)],         // the typed vector z, in the URL's notation
  ['targetId', 0, integer(0, 1 << 20)],                // its target id
  ['labelSmoothing', 0, number(0, 0.5)],               // ε, crossEntropy only
  ['reduction', 'mean', choice('mean', 'sum')],        // over the context's predictions
  // Live training (view=train): Trainer options, same names as the JS API.
  ['preset', presets[0], choice(...presets)],         // the smallest
  ['learningRate', 0.01, number(1e-4, 1e-1)],        // TrainOptions::page()'s (tests/page_facts.rs)
  ['batchSize', 8, steps(4, 8, 16, 32)],
  ['pipelines', pipelines.join(','), list(pipelines)],
  ['trainText', 'shakespeare', choice('shakespeare', 'own')], // pasted text stays on the page
  ['trainSeed', 1, integer(0, Number.MAX_SAFE_INTEGER)],
  // Distillation (view=train): the knobs of distillLoss, the same names without the prefix.
  ['distillT', 1.5, number(0.5, 10)],                 // T (docs/views.md: why 1.5 and 0.3)
  ['distillAlpha', 0.3, number(0, 1)],                // α, crossEntropy's weight: Hinton et al. weight it lightly
  ['distillReduction', 'own', choice('own', 'batchmean', 'mean', 'sum')], // 'own': each pipeline's formula's
  // Embedding.
  ['hide', '', list(HIDEABLE)],                        // parts an instructor hides
  ['embed', false, { kind: 'flag' }],                  // no page chrome, for an iframe
  ['id', '', { kind: 'pattern', re: /^[\w-]{1,64}$/ }], // the iframe's id, echoed in height messages
  ['model', '', text(500)],                            // a same-origin path; '' = the built-in model
  ['tokenizer', '', text(500)],                        // a llama2.c model's tokenizer.bin, if not beside it
  ['lang', '', choice('', ...Object.keys(LANGUAGES))], // '' = the browser's preferred language, if we have it
];

/** The state when the URL says nothing. */
const defaults = () => Object.fromEntries(SCHEMA().map(([name, value]) => [name, value]));

/** A URL value for a key of this type, or undefined if it is not one. */
function read(type, value) {
  switch (type.kind) {
    case 'number':
    case 'integer': {
      const x = Number(value);
      const ok = value.trim() !== '' && Number.isFinite(x) && x >= type.lo && x <= type.hi
        && (type.kind === 'number' || Number.isInteger(x)) && (type.values?.includes(x) ?? true);
      return ok ? x : undefined;
    }
    case 'choice': return type.values.includes(value) ? value : undefined;
    case 'text': return value.length <= type.max ? value : undefined;
    case 'clip': return value.slice(0, type.max);
    case 'list': return type.values.filter((v) => value.split(',').includes(v)).join(',');
    case 'flag': return value === '1' || value === 'true';
    case 'pattern': return type.re.test(value) ? value : undefined;
    case 'chain': {
      try { chainFromUrl(value); return value; } catch { return undefined; }
    }
    default: return undefined;
  }
}

/** Reads a state from a query string; anything malformed falls back to its default. */
export function parse(search) {
  const q = new URLSearchParams(search);
  const s = defaults();
  for (const [name, , type] of SCHEMA()) {
    if (!q.has(name)) continue;
    const v = read(type, q.get(name));
    if (v !== undefined) s[name] = v;
  }
  return s;
}

/** The query string of a state: only what differs from the defaults, in a stable order. */
export function serialize(s) {
  const q = new URLSearchParams();
  for (const [name, value, type] of SCHEMA()) {
    if (s[name] === value) continue;
    q.set(name, type.kind === 'flag' ? (s[name] ? '1' : '0') : String(s[name]));
  }
  const out = q.toString();
  return out ? `?${out}` : '';
}

/**
 * Gives a control the values the URL accepts for state key `name`, so that the schema is the
 * one home of each range: a range input's min and max (their log10 with `log`), or a select's
 * options.
 */
export function bindControl(el, name, { log = false } = {}) {
  const type = SCHEMA().find(([n]) => n === name)[2];
  if (el instanceof HTMLSelectElement) {
    el.replaceChildren(...type.values.map((v) => Object.assign(document.createElement('option'), { textContent: String(v) })));
    return;
  }
  const [min, max] = [log ? Math.log10(type.lo) : type.lo, log ? Math.log10(type.hi) : type.hi].map(String);
  // Unchanged bounds are left alone: rewriting them restyles the control.
  if (el.min !== min) el.min = min;
  if (el.max !== max) el.max = max;
}

export function hidden(s) {
  return new Set(s.hide ? s.hide.split(',') : []);
}
