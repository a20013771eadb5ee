// All computation of the page happens here, off the main thread, so the page never freezes:
// the wasm module, the model, generation, the next-token panel and the many-draws histogram.
// Every number comes from the wasm exports; this file only routes messages.
//
// Requests carry an `id`; the reply carries the same id. Generation streams `token` messages
// and is cancelled by `stop` (checked between tokens, which yield to the event loop).

import init, * as lab from './pkg/logitlab.js';

let model = null;
let vocab = [];        // id → character, for labels
let run = 0;           // generation run counter; a newer run or `stop` ends older ones

const post = (msg, transfer = []) => self.postMessage(msg, transfer);

async function load() {
  // Compile the wasm and download the model at the same time.
  const [, bytes] = await Promise.all([init(), fetch('models/default.safetensors').then((res) => {
    if (!res.ok) throw new Error(`cannot load models/default.safetensors: HTTP ${res.status}`);
    return res.arrayBuffer();
  })]);
  model = lab.Model.fromBytes(new Uint8Array(bytes));
  const config = model.config;
  vocab = Array.from({ length: config.vocabSize }, (_, i) => model.decode(Uint32Array.of(i)));
  return { config, vocab };
}

/** The ids the model sees for `text`: its last contextLength characters. */
function context(text) {
  const ids = model.encode(text);
  const n = model.config.contextLength;
  return ids.length > n ? ids.slice(ids.length - n) : ids;
}

/** Everything the next-token panel shows for one context and one set of options. */
function panel({ text, options, output, precisionT }) {
  const ids = context(text);
  if (ids.length === 0) throw new Error('prompt must contain at least one character');
  const values = model.forward(ids, { output });
  const input = output === 'logits' ? 'logits' : 'logProbs';
  const s = lab.sample(values, { ...options, input });
  const logProbs = lab.logSoftmax(values);
  const identity = lab.temperatureIdentity(values, options.temperature > 0 ? options.temperature : 1);
  const precision = lab.precision(values, precisionT);
  return {
    values, logProbs, probs: s.probs, cut: s.cut, token: s.token, kept: s.kept,
    entropy: s.entropy, logsumexp: lab.logsumexp(values),
    identity: { fromLogits: identity.fromLogits, fromLogSoftmax: identity.fromLogSoftmax,
      maxAbsDiff: identity.maxAbsDiff },
    precision: { zeros: precision.zeros, afterT3: afterReheat(precision) },
  };
}

/**
 * The stored distributions re-heated to T = 3 (as a generate() with a temperature knob would do
 * with them): how many ids are still exactly 0. Zeros stay zeros; log-probs lose nothing.
 */
function afterReheat(stored) {
  const zeros = (p) => p.reduce((n, x) => n + (x === 0 ? 1 : 0), 0);
  const reheat = (p) => lab.sample(p, { input: 'probs', temperature: 3, seed: 0 }).probs;
  return {
    f32: zeros(reheat(stored.f32)),
    bf16: zeros(reheat(stored.bf16)),
    f16: zeros(reheat(stored.f16)),
    logProbs: zeros(lab.softmax(stored.logProbs, 3)),
  };
}

/** `n` independent draws from the same distribution, seeds seed, seed+1, … */
function draws({ text, options, output, n }) {
  const values = model.forward(context(text), { output });
  const input = output === 'logits' ? 'logits' : 'logProbs';
  const counts = new Uint32Array(values.length);
  let probs = null;
  for (let i = 0; i < n; i++) {
    const s = lab.sample(values, { ...options, input, seed: (options.seed + i) % Number.MAX_SAFE_INTEGER });
    counts[s.token]++;
    probs ??= s.probs;
  }
  return { counts, probs, n };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

async function generate({ text, options, output, tokens }) {
  const mine = ++run;
  const gen = model.generate(text, { ...options, output });
  try {
    let last = performance.now();
    let batch = [];
    for (let i = 0; i < tokens; i++) {
      const step = gen.next();
      batch.push({ token: step.token, text: step.text, logProb: step.modelLogProb, prob: Math.exp(step.modelLogProb) });
      if (performance.now() - last > 30 || i === tokens - 1) {
        post({ type: 'tokens', run: mine, tokens: batch });
        batch = [];
        await tick();
        last = performance.now();
        if (run !== mine) return { stopped: true };
      }
    }
    return { stopped: false };
  } finally {
    gen.free();
  }
}

const handlers = {
  load, panel, draws, generate,
  stop: () => { run++; return {}; },
};

self.onmessage = async ({ data }) => {
  const { id, type, args } = data;
  try {
    const result = await handlers[type](args ?? {});
    post({ id, ok: true, result });
  } catch (e) {
    post({ id, ok: false, error: String(e?.message ?? e) });
  }
};
