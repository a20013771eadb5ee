// Runs inside the page (served to it by tests/e2e/junk.test.mjs): calls every export of
// www/pkg/logitlab.js with seeded junk — wrong types, huge arrays, negative and NaN numbers,
// missing and extra fields — and sorts each outcome. A call must return, or throw an `Error`
// whose message names an argument; a `WebAssembly.RuntimeError` (a trap: a Rust panic, an
// out-of-memory abort) kills the module and fails the test.

/** xorshift32: a small seeded generator (any stream will do; it only has to be replayable). */
export function rng(seed) {
  let s = seed >>> 0 || 1;
  const next = () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s / 2 ** 32;
  };
  return {
    next,
    int: (n) => Math.floor(next() * n),
    pick: (xs) => xs[Math.floor(next() * xs.length)],
    chance: (p) => next() < p,
  };
}

const NUMBERS = [NaN, Infinity, -Infinity, 0, -0, -1, 1, 0.5, 2, 3, 1e-45, 5e-324, 1e-39,
  3.5e38, 1e308, -1e308, 2 ** 31, -(2 ** 31), 2 ** 32, 2 ** 53, 2 ** 53 + 2, -(2 ** 53), 1e-7,
  0.8, 0.9, 40, 7, -100, 65504, 4294967295];

const STRINGS = ['', 'ROMEO:\n', 'abc', '\0', '😀', '\uD800', 'a\uDC00b', 'x'.repeat(5000),
  'logits', 'logSoftmax', 'probs', 'logProbs', 'crossEntropy', 'nll', 'mean', 'sum',
  'nllOnLogits', 'crossEntropyOnLogits', 'nllOnLogSoftmax', 'crossEntropyOnSoftmax', 'toString',
  '__proto__', 'NaN', '1e9'];

/** Every argument name the exports' errors may mention; an error must name one of them. */
export const ARGUMENT_NAMES = ['values', 'temperature', 'options', 'input', 'topK', 'topP',
  'minP', 'seed', 'targets', 'classes', 'function', 'reduction', 'ignoreIndex', 'weight',
  'labelSmoothing', 'row', 'checkpoint', 'text', 'ids', 'prompt', 'output', 'allPositions',
  'config', 'contextLength', 'layers', 'heads', 'embd', 'pipeline', 'batchSize',
  'learningRate', 'minLearningRate', 'warmupSteps', 'totalSteps', 'weightDecay', 'gradClip',
  'evalBatches', 'n must', 'training diverged', 'model', 'messages', 'vocabulary', 'bytes', 'preset', 'top',
  'storedTemperature', 'reheatTemperature', 'frequency', 'files', 'config.json', 'model.safetensors',
  'tokenizer.json', 'id must', '.safetensors'];

export async function runJunk(lab, { calls, seed, modelBytes }) {
  const r = rng(seed);
  const tally = { calls: 0, returned: 0, errors: 0, glueTypeErrors: 0, byExport: {} };
  const problems = [];
  const live = []; // wasm objects to free at the end

  const number = () => (r.chance(0.7) ? r.pick(NUMBERS) : (r.next() - 0.5) * 10 ** r.int(6));
  const string = () => (r.chance(0.8) ? r.pick(STRINGS)
    : String.fromCharCode(...Array.from({ length: r.int(20) }, () => r.int(0x10000))));

  function floats(huge) {
    const n = huge ? (1 << 22) + 1 + r.int(3) : r.pick([0, 1, 2, 3, 5, 84, 100, r.int(2000)]);
    const a = new Float32Array(n);
    for (let i = 0; i < Math.min(n, 4096); i++) a[i] = r.chance(0.9) ? (r.next() - 0.5) * 20 : r.pick(NUMBERS);
    return a;
  }

  function junk(depth = 0) {
    switch (r.int(depth > 1 ? 8 : 14)) {
      case 0: return number();
      case 1: return string();
      case 2: return r.pick([true, false, null, undefined]);
      case 3: return floats(r.chance(0.01));
      case 4: return Array.from({ length: r.int(6) }, () => (r.chance(0.8) ? number() : junk(depth + 1)));
      case 5: return new Int32Array(Array.from({ length: r.int(8) }, () => r.int(200) - 100));
      case 6: return new Uint32Array(Array.from({ length: r.int(8) }, () => r.int(100)));
      case 7: return r.pick([{}, [], () => 1, 10n, Symbol('s'), new Date(0), /re/]);
      case 8: return new BigInt64Array(2);
      case 9: return new DataView(new ArrayBuffer(8));
      case 10: return new Uint8Array(Array.from({ length: r.int(64) }, () => r.int(256)));
      case 11: return new Float64Array([1, 2, NaN]);
      case 12: return Object.create(null);
      default: return options(['temperature', 'topK', 'topP', 'minP', 'seed'], depth + 1);
    }
  }

  /** An options object: some known fields with good or junk values, sometimes an extra one.
   *  Fields in `usual` are present 90% of the time (e.g. loss's required `classes`). */
  function options(fields, depth = 0, good = {}, usual = []) {
    if (r.chance(0.1)) return junk(depth + 1);
    const o = {};
    for (const f of fields) {
      if (r.chance(usual.includes(f) ? 0.1 : 0.5)) continue;
      o[f] = f in good && r.chance(0.6) ? r.pick(good[f]) : (r.chance(0.7) ? number() : junk(depth + 1));
    }
    if (r.chance(0.1)) o[r.pick(['temprature', 'extra', 'top_k', '0', ''])] = 1;
    return o;
  }

  const SAMPLER_GOOD = {
    temperature: [0, 0.5, 0.8, 1, 2], topK: [0, 1, 5, 40], topP: [0.5, 0.9, 1],
    minP: [0, 0.05, 0.5], seed: [0, 1, 42, 2 ** 53 - 1], input: ['logits', 'logProbs', 'probs'],
    output: ['logits', 'logSoftmax'],
  };
  const values = () => (r.chance(0.8) ? floats(r.chance(0.005)) : junk());

  const model = lab.Model.fromBytes(modelBytes);
  live.push(model);
  const V = model.config.vocabSize;
  const ids = () => (r.chance(0.7)
    ? new Uint32Array(Array.from({ length: 1 + r.int(r.chance(0.1) ? 200 : 20) }, () => r.int(V + (r.chance(0.1) ? 5 : 0))))
    : junk());
  const text = () => (r.chance(0.6) ? r.pick(['ROMEO:\n', 'To be', 'Hello.', 'the ']) + string().slice(0, 3) : junk());
  const trainText = () => (r.chance(0.6) ? 'To be, or not to be, that is the question:\n'.repeat(3 + r.int(40)) + string() : junk());
  const smallCount = () => (r.chance(0.7) ? 1 + r.int(3) : number());
  /** A loss's batch: 0 to 4 rows of c classes and their targets (some negative), or junk. */
  function lossBatch() {
    const n = r.int(5);
    const c = r.pick([1, 2, 3, 5]);
    const v = r.chance(0.8) ? new Float32Array(n * c).map(() => (r.next() - 0.5) * 8) : values();
    const t = r.chance(0.8) ? new Int32Array(n).map(() => r.int(c) - (r.chance(0.1) ? 100 : 0)) : junk();
    return { c, v, t };
  }

  function mutatedModel() {
    if (r.chance(0.3)) return junk();
    const b = modelBytes.slice(0, r.chance(0.2) ? r.int(modelBytes.length) : modelBytes.length);
    for (let k = 1 + r.int(4); k > 0 && b.length; k--) {
      const at = r.chance(0.5) ? r.int(Math.min(b.length, 5000)) : r.int(b.length);
      b[at] = r.int(256);
    }
    return b;
  }

  const ops = [
    ['softmax', 10, () => lab.softmax(values(), r.chance(0.5) ? number() : undefined)],
    ['logSoftmax', 10, () => lab.logSoftmax(values())],
    ['logsumexp', 6, () => lab.logsumexp(values())],
    ['temperatureIdentity', 6, () => lab.temperatureIdentity(values(), number())],
    ['precision', 6, () => lab.precision(values(), number())],
    ['sample', 14, () => lab.sample(values(), options(['input', 'temperature', 'topK', 'topP', 'minP', 'seed'], 0, SAMPLER_GOOD))],
    ['loss', 12, () => {
      const { c, v, t } = lossBatch();
      return lab.loss(v, t, options(['classes', 'function', 'reduction', 'ignoreIndex', 'weight', 'labelSmoothing'], 0,
        { classes: [c, c, c, 0, c + 1], function: ['crossEntropy', 'nll'], reduction: ['mean', 'sum'], ignoreIndex: [-100, 0],
          weight: [new Float32Array(c).fill(1), [1, 2]], labelSmoothing: [0, 0.1, 1] }, ['classes']));
    }],
    ['pipelineLoss', 8, () => {
      const { c, v, t } = lossBatch();
      return lab.pipelineLoss(v, t, options(['classes', 'pipeline', 'reduction', 'ignoreIndex', 'weight', 'labelSmoothing'], 0,
        { classes: [c, c, c, 0, c + 1], pipeline: ['crossEntropyOnLogits', 'nllOnLogSoftmax', 'nllOnLogits', 'crossEntropyOnSoftmax'],
          reduction: ['mean', 'sum'], ignoreIndex: [-100, 0], weight: [new Float32Array(c).fill(1), [1, 2]],
          labelSmoothing: [0, 0.1, 1] }, ['classes', 'pipeline']));
    }],
    ['nextTokenPanel', 8, () => lab.nextTokenPanel(values(), options(['output', 'temperature', 'topK', 'topP', 'minP', 'seed',
      'top', 'storedTemperature', 'reheatTemperature', 'identity', 'precision'], 0, { ...SAMPLER_GOOD, top: [0, 12, 5000],
      storedTemperature: [0.05, 1, 3], reheatTemperature: [0.05, 3], identity: [true, false], precision: [true, false] }))],
    ['ModelOutput', 4, () => {
      const kept = new lab.ModelOutput(values(), r.chance(0.7) ? r.pick([undefined, 0, 12, 5000]) : number());
      try {
        return [kept.length, kept.nextTokenPanel(options(['output', 'temperature', 'topK', 'topP', 'minP', 'seed', 'top',
          'storedTemperature', 'reheatTemperature', 'identity', 'precision', 'topOnly'], 0, { ...SAMPLER_GOOD, top: [12, 5],
          storedTemperature: [0.05, 1, 3], reheatTemperature: [0.05, 3], identity: [true, false], precision: [true, false],
          topOnly: [true, false] }))];
      } finally { kept.free(); }
    }],
    ['zeroThresholds', 1, () => lab.zeroThresholds()],
    ['classify', 5, () => lab.classify(values(), number())],
    ['stability', 5, () => lab.stability(values())],
    ['draws', 3, () => lab.draws(values(), options(['output', 'temperature', 'topK', 'topP', 'minP', 'seed'], 0, SAMPLER_GOOD),
      r.chance(0.7) ? r.pick([1, 10, 100]) : number())],
    ['ceOnSoftmax', 3, () => lab.ceOnSoftmax(r.chance(0.5) ? r.pick([2, 69, 84]) : number(), r.chance(0.5) ? r.next() : junk())],
    ['charFrequencies', 3, () => lab.charFrequencies(text(), r.chance(0.5) ? 2 : number())],
    ['parseValues', 5, () => lab.parseValues(r.chance(0.5) ? r.pick(['1, 2', '100, 0*49999', '1e3 -Infinity', '1, oops', '0*0', '',
      '2; 1; 0,5', '1; 1,001', '2,1,0,5', '0.5; 1']) + string() : junk(), r.chance(0.5) ? { decimal: r.pick(['.', ',']) } : r.chance(0.5) ? undefined : junk())],
    ['translateValues', 3, () => lab.translateValues(r.chance(0.5) ? r.pick(['1, 1.001', '2; 1; 0,5', '100, 0*49999', '1, oops', '']) + string() : junk(),
      r.chance(0.6) ? { from: r.pick(['.', ',']), to: r.pick(['.', ',']) } : junk())],
    ['Model.fromBytes', 2, () => lab.Model.fromBytes(mutatedModel())],
    ['Model.fromFiles', 2, () => lab.Model.fromFiles(r.chance(0.3) ? junk() : Object.fromEntries(
      Array.from({ length: 1 + r.int(3) }, () => [r.pick(['config.json', 'model.safetensors', 'tokenizer.json',
        'default.safetensors', 'gpt2/config.json', 'x.bin', 'notes.txt']), r.chance(0.5) ? mutatedModel() : junk()])))],
    ['model.tokenText', 4, () => model.tokenText(r.chance(0.7) ? r.int(V + 3) : junk())],
    ['model.encode', 6, () => model.encode(text(), r.chance(0.5) ? { addSpecialTokens: r.chance(0.5) } : r.chance(0.5) ? undefined : junk())],
    ['model.tokenStats', 3, () => model.tokenStats(text())],
    ['model.promptIds', 3, () => model.promptIds(text())],
    ['model.applyChatTemplate', 3, () => model.applyChatTemplate(
      r.chance(0.6) ? [{ role: r.pick(['user', 'system', junk()]), content: r.chance(0.7) ? text() : junk() }] : junk(),
      r.chance(0.6) ? { addGenerationPrompt: r.chance(0.5) } : junk())],
    ['model.decode', 6, () => model.decode(ids())],
    ['model.forward', 4, () => model.forward(ids(), options(['output', 'allPositions'], 0, { output: SAMPLER_GOOD.output, allPositions: [true, false] }))],
    ['model.generate', 5, () => {
      const gen = model.generate(text(), options(['output', 'temperature', 'topK', 'topP', 'minP', 'seed'], 0, SAMPLER_GOOD));
      try {
        for (let k = r.int(4); k > 0; k--) gen.next();
        return [gen.seed, gen.tokens];
      } finally { gen.free(); }
    }],
    ['Trainer', 1, () => {
      const t = new lab.Trainer(trainText(),
        options(['preset', 'contextLength', 'layers', 'heads', 'embd'], 0, { preset: ['tiny', 'tiny', 'small'], contextLength: [4, 8], layers: [1], heads: [1, 2], embd: [8] },
          ['contextLength', 'layers', 'embd']),
        r.chance(0.8) ? r.pick(['crossEntropyOnLogits', 'nllOnLogSoftmax', 'nllOnLogits', 'crossEntropyOnSoftmax']) : junk(),
        r.chance(0.8) ? r.int(100) : number(),
        options(['batchSize', 'learningRate', 'minLearningRate', 'warmupSteps', 'totalSteps', 'weightDecay', 'gradClip', 'evalBatches'], 0,
          { batchSize: [1, 2, 4], learningRate: [1e-2, 1], minLearningRate: [0, 1e-3], warmupSteps: [0, 2],
            totalSteps: [10, 100], weightDecay: [0, 0.1], gradClip: [0, 1], evalBatches: [0, 1] }));
      try {
        const n = smallCount();
        // A valid but long run (up to 10 000 steps) would only make the test slow.
        const report = t.step(Number.isInteger(n) && n > 3 && n <= 10000 ? 3 : n);
        const m = t.model();
        m.free();
        return report;
      } finally { t.free(); }
    }],
  ];
  if (!lab.Trainer) ops.splice(ops.findIndex(([name]) => name === 'Trainer'), 1); // the sampling lab build
  // The chat build's (and only its) models render chat templates.
  if (!model.applyChatTemplate) ops.splice(ops.findIndex(([name]) => name === 'model.applyChatTemplate'), 1);
  // The training build leaves out the lab's experiments (nextTokenPanel, classify, …).
  for (let i = ops.length - 1; i >= 0; i--) if (!ops[i][0].includes('.') && typeof lab[ops[i][0]] !== 'function') ops.splice(i, 1);
  const weights = ops.map(([, w]) => w);
  const total = weights.reduce((a, b) => a + b, 0);
  const choose = () => {
    let x = r.next() * total;
    for (const op of ops) { x -= op[1]; if (x < 0) return op; }
    return ops[ops.length - 1];
  };

  for (let i = 0; i < calls; i++) {
    const [name, , call] = choose();
    const by = (tally.byExport[name] ??= { returned: 0, errors: 0 });
    tally.calls++;
    try {
      const out = call();
      if (out && typeof out.free === 'function') out.free();
      tally.returned++; by.returned++;
    } catch (e) {
      if (e instanceof WebAssembly.RuntimeError) {
        problems.push({ call: i, name, kind: 'trap', message: String(e), stack: String(e.stack).slice(0, 600) });
        break; // the module is dead after a trap
      }
      if (!(e instanceof Error)) {
        problems.push({ call: i, name, kind: 'not an Error', message: String(e) });
        continue;
      }
      tally.errors++; by.errors++;
      // wasm-bindgen's own glue throws a TypeError for values it cannot convert at all
      // (a BigInt or a Symbol where a number or string is expected), before any Rust runs.
      if (e instanceof TypeError && /BigInt|Symbol|convert/.test(e.message)) {
        tally.glueTypeErrors++;
        continue;
      }
      if (!e.message || !ARGUMENT_NAMES.some((a) => e.message.includes(a))) {
        problems.push({ call: i, name, kind: 'unhelpful message', message: e.message });
      }
    }
  }
  for (const o of live) o.free();
  return { tally, problems: problems.slice(0, 20), problemCount: problems.length };
}
