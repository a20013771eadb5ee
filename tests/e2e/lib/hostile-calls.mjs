// Runs inside the page (served to it by tests/e2e/junk.test.mjs): calls every export of a wasm
// build `perExport` times, each call with at least one hostile JS value — proxies whose traps throw or lie, getters
// that throw or shrink a buffer mid-call, revoked proxies, detached and resizable buffers,
// look-alike objects, values whose conversion to a number throws — mixed with good arguments so
// that the calls get past the first one. Each call must return or throw; afterwards every
// object it used must still work (a JS exception that unwound through wasm would leave a Rust
// value borrowed), and the wasm's table of JS references must not have grown with the calls (a
// leaked slot per call).

import { rng } from './junk-calls.mjs';

/** A Float32Array whose buffer `shrink()` resizes to `to` bytes (a resizable ArrayBuffer). */
function resizable(n, to) {
  const buffer = new ArrayBuffer(4 * n, { maxByteLength: 4 * n + 64 });
  const a = new Float32Array(buffer); // tracks the buffer's length
  a.fill(0.5);
  return { a, shrink: () => buffer.resize(to) };
}

/** A view whose buffer has been detached (transferred away). */
function detached(Type, n) {
  const a = new Type(n);
  structuredClone(a.buffer, { transfer: [a.buffer] });
  return a;
}

export function hostileValues(r, good) {
  const thrower = () => { throw new Error('hostile'); };
  const makers = [
    () => new Proxy({}, { get: thrower, has: thrower, ownKeys: thrower, getPrototypeOf: thrower, getOwnPropertyDescriptor: thrower }),
    () => new Proxy(new Float32Array(8), { get: (t, k) => (k === 'length' ? 2 ** 31 : Reflect.get(t, k)) }),
    () => new Proxy([1, 2, 3], { get: (t, k) => (k === 'length' ? 3 : thrower()) }),
    () => new Proxy(new Uint8Array(16), { getPrototypeOf: thrower }),
    () => { const p = Proxy.revocable([], {}); p.revoke(); return p.proxy; },
    () => { const p = Proxy.revocable({}, {}); p.revoke(); return p.proxy; },
    () => Object.defineProperty({}, r.pick(['temperature', 'topK', 'seed', 'output', 'classes', 'decimal', 'config.json', 'model.safetensors']),
      { get: thrower, enumerable: true }),
    () => { const x = resizable(84, 0); x.shrink(); return x.a; },
    () => detached(Float32Array, 84),
    () => detached(Uint8Array, 64),
    () => detached(Uint32Array, 4),
    () => ({ length: 40, subarray: () => new Uint8Array(40), 0: 1 }),
    () => ({ length: 2 ** 32 + 1 }),
    () => ({ [Symbol.toPrimitive]: thrower }),
    () => ({ valueOf: thrower, toString: thrower }),
    () => { const a = [1, 2]; Object.defineProperty(a, 1, { get: thrower }); return a; },
    () => { const a = []; a.length = 2 ** 32 - 1; return a; },
    () => (typeof SharedArrayBuffer === 'function' ? new Float32Array(new SharedArrayBuffer(16)) : new Float32Array(4)),
    () => new DataView(new ArrayBuffer(12)),
    () => r.pick([Symbol('s'), 10n, null, undefined, NaN, -1, 2 ** 53, '', 'x'.repeat(10_000), () => 1, new Date(0)]),
  ];
  // A getter that shrinks a good argument's buffer when it is read: an options object, or an
  // object of files, read after the buffer's length was checked.
  const shrinking = () => {
    const { a, shrink } = resizable(good.vocab, 4);
    const key = r.pick(['temperature', 'topK', 'output', 'classes', 'model.safetensors', 'config.json', 'seed']);
    return { values: a, trap: Object.defineProperty({}, key, { get: () => { shrink(); return 1; }, enumerable: true }) };
  };
  return { pick: () => r.pick(makers)(), shrinking };
}

export async function runHostile(lab, wasm, { perExport, seed, modelBytes }) {
  const r = rng(seed);
  const model = lab.Model.fromBytes(modelBytes);
  const V = model.config.vocabSize;
  const hostile = hostileValues(r, { vocab: V });
  const table = Object.values(wasm).find((x) => x instanceof WebAssembly.Table);
  const goodValues = () => r.pick([new Float32Array(V).map((_, i) => Math.sin(i)), new Float32Array([2, 1, 0.5]), [1, 2, 3]]);
  const goodText = () => r.pick(['ROMEO:\n', 'To be', 'the ']);
  const goodIds = () => new Uint32Array([1, 2, 3].map((x) => x % V));
  const goodOptions = () => r.pick([{}, { temperature: 0.8, seed: 1 }, { output: 'logSoftmax' }, { classes: 3 }, undefined]);
  /** An argument: good for its position most of the time, else hostile. */
  const arg = (good) => (r.chance(0.7) ? good() : hostile.pick());

  // Every export, with the good value of each of its arguments (by position).
  const calls = {
    softmax: [goodValues, () => 1],
    logSoftmax: [goodValues],
    logsumexp: [goodValues],
    temperatureIdentity: [goodValues, () => 0.5],
    precision: [goodValues, () => 1],
    sample: [goodValues, goodOptions],
    loss: [() => new Float32Array([1, 2, 3, 0, 1, 2]), () => new Int32Array([0, 2]), () => ({ classes: 3 })],
    pipelineLoss: [() => new Float32Array([1, 2, 3, 0, 1, 2]), () => new Int32Array([0, 2]), () => ({ classes: 3, pipeline: 'nllOnLogits' })],
    nextTokenPanel: [goodValues, goodOptions],
    'new ModelOutput': [goodValues, () => r.pick([undefined, 3, 12])],
    'output.nextTokenPanel': [() => r.pick([{}, { temperature: 0.8, topP: 0.9, seed: 1, topOnly: true }, { output: 'logSoftmax' }, undefined])],
    'output.experiments': [() => r.pick([{}, { temperature: 0.8, storedTemperature: 0.5, topOnly: true }, { identity: false }, { precision: false, top: 12 }, undefined])],
    'output.chainPanel': [() => r.pick(['llama.cpp', [{ kind: 'repetitionPenalty', penalty: 2 }, { kind: 'topK', k: 5 }]]),
      () => ({ history: new Uint32Array([1, 2]), seed: 1, topOnly: true })],
    classify: [goodValues, () => 1],
    stability: [goodValues],
    draws: [goodValues, goodOptions, () => 10],
    ceOnSoftmax: [() => 84, () => 0.5],
    ceOnSoftmaxText: [goodText],
    charFrequencies: [goodText, () => 2],
    parseValues: [() => '1, 2, 3', () => ({ decimal: '.' })],
    translateValues: [() => '1, 2', () => ({ from: '.', to: ',' })],
    modelFiles: [() => ['config.json', 'model.safetensors', 'tokenizer.json']],
    modelPathFiles: [() => 'models/x/', () => ''],
    modelPathOptionalFiles: [() => 'models/x/'],
    cutReasons: [], pipelines: [], presets: [], zeroThresholds: [], defaultModelUrl: [],
    'Model.fromBytes': [() => modelBytes],
    'Model.fromFiles': [() => ({ 'default.safetensors': modelBytes })],
    'model.encode': [goodText, () => ({ addSpecialTokens: true })],
    'model.promptIds': [goodText],
    'model.decode': [goodIds],
    'model.forward': [goodIds, goodOptions],
    'model.tokenText': [() => 1],
    'model.tokenStats': [goodText],
    'model.applyChatTemplate': [() => [{ role: 'user', content: 'Hi' }], () => ({ addGenerationPrompt: true })],
    'model.generate': [goodText, goodOptions],
    'model.toBytes': [],
    'model.toHuggingFaceZip': [() => 'm'],
    'model.quantizePlan': [() => r.pick(['q8_0', 'q4_0', 'q4_K'])],
    'model.quantize': [() => r.pick(['q8_0', 'q4_0', 'q4_K'])],
    'model.toGguf': [],
    calibration: [() => model, () => 'To be, or not to be, that is the question.\n', () => ({ bins: 15, fit: true })],
    compareModels: [() => model, () => model, goodIds],
    distillLoss: [() => new Float32Array([1, 2, 3, 0, 1, 2]), () => new Float32Array([2, 1, 0, 1, 1, 1]),
      () => new Int32Array([0, 2]), () => ({ pipeline: r.pick(['hinton', 'probsAsInput', 'reverseKl']), temperature: 2 })],
    distillPipelines: [],
    'ModelReader.forFiles': [() => ({ 'config.json': new TextEncoder().encode('{}') }), () => 'model.safetensors', () => 1000],
    'new ModelReader': [() => 1000, () => new Uint8Array(8)],
    'new Sampler': [() => r.pick(['llama.cpp', 'huggingface', [{ kind: 'topK', k: 5 }, { kind: 'temperature', t: 0.8 }]]), () => ({ seed: 1 })],
    'sampler.distribution': [goodValues, () => ({ history: new Uint32Array([1, 2]) })],
    'sampler.sample': [goodValues, () => ({ history: new Uint32Array([1, 2]) })],
    chainToUrl: [() => [{ kind: 'topK', k: 5 }]],
    chainFromUrl: [() => 'k_5'],
    chainFields: [() => r.pick(['topP', 'dry', 'logitBias'])],
    chainPanel: [goodValues, () => r.pick(['llama.cpp', [{ kind: 'repetitionPenalty', penalty: 2 }, { kind: 'topK', k: 5 }]]),
      () => ({ history: new Uint32Array([1, 2]), top: 3, seed: 1 })],
    chainDraws: [goodValues, () => r.pick(['huggingface', [{ kind: 'topP', p: 0.9 }]]), () => ({ seed: 1 }), () => 10],
    orderMatters: [() => model, goodText, () => [[{ kind: 'topP', p: 0.8 }, { kind: 'temperature', t: 0.5 }], 'huggingface'],
      () => ({ tokens: 3, seed: 1 })],
    'new ChainGeneration': [() => model, goodText, () => r.pick(['llama.cpp', [{ kind: 'minP', p: 0.1 }]]), () => ({ seed: 1 })],
    'chainGen.next': [],
    'reader.push': [() => new Uint8Array(4)],
    'reader.finish': [],
    'gen.next': [],
    'new Trainer': [() => 'To be, or not to be, that is the question.\n'.repeat(20), () => ({ preset: 'tiny' }),
      () => 'crossEntropyOnLogits', () => 1, () => ({})],
    'Trainer.distill': [() => 'To be, or not to be, that is the question.\n'.repeat(20), () => ({ preset: 'tiny' }),
      () => model, () => ({ pipeline: 'hinton', temperature: 2, alpha: 0.1 }), () => 1, () => ({})],
    'trainer.step': [() => 1],
    'trainer.model': [],
  };
  // Every export of the build is in the table: a new one gets its hostile calls too.
  const missing = [];
  const instance = { Model: 'model', ModelReader: 'reader', Generation: 'gen', Trainer: 'trainer', Sampler: 'sampler',
    ChainGeneration: 'chainGen', ModelOutput: 'output' };
  for (const [name, value] of Object.entries(lab)) {
    if (name === 'default' || name === 'initSync' || typeof value !== 'function') continue;
    const methods = [];
    if (/^[A-Z]/.test(name) && value.prototype) {
      if (/\bconstructor\(/.test(String(value))) methods.push(`new ${name}`);
      for (const m of Object.getOwnPropertyNames(value)) {
        if (typeof value[m] === 'function' && !m.startsWith('__')) methods.push(`${name}.${m}`);
      }
      for (const m of Object.getOwnPropertyNames(value.prototype)) {
        const d = Object.getOwnPropertyDescriptor(value.prototype, m);
        if (m !== 'constructor' && m !== 'free' && !m.startsWith('__') && typeof d.value === 'function') {
          methods.push(`${instance[name] ?? name}.${m}`);
        }
      }
    } else {
      methods.push(name);
    }
    missing.push(...methods.filter((m) => !(m in calls)));
  }
  const reader = () => { try { return new lab.ModelReader(1 << 20, new Uint8Array([16, 0, 0, 0])); } catch { return null; } };
  let theReader = reader();
  const gen = model.generate('ROMEO:\n', { temperature: 0, seed: 0 });
  const sampler = lab.Sampler ? new lab.Sampler('llama.cpp', { seed: 1 }) : null;
  const output = lab.ModelOutput ? new lab.ModelOutput(new Float32Array(V).map((_, i) => Math.sin(i)), 12) : null;
  const chainGen = lab.ChainGeneration ? new lab.ChainGeneration(model, 'ROMEO:\n', 'huggingface', { seed: 0 }) : null;
  const trainer = lab.Trainer ? new lab.Trainer('To be, or not to be, that is the question.\n'.repeat(20), { preset: 'tiny' },
    'crossEntropyOnLogits', 1, {}) : null;

  function invoke(name, args) {
    switch (name) {
      case 'Model.fromBytes': return lab.Model.fromBytes(...args);
      case 'Model.fromFiles': return lab.Model.fromFiles(...args);
      case 'new ModelReader': return new lab.ModelReader(...args);
      case 'ModelReader.forFiles': return lab.ModelReader.forFiles(...args);
      case 'reader.push': return theReader?.push(...args);
      case 'reader.finish': { const x = reader(); try { return x?.finish(...args); } finally { x?.free(); } }
      case 'gen.next': return gen.next(...args);
      case 'new Trainer': return new lab.Trainer(...args);
      case 'Trainer.distill': return lab.Trainer.distill(...args);
      case 'new Sampler': return new lab.Sampler(...args);
      case 'sampler.distribution': return sampler.distribution(...args);
      case 'sampler.sample': return sampler.sample(...args);
      case 'new ModelOutput': return new lab.ModelOutput(...args);
      case 'output.nextTokenPanel': return output.nextTokenPanel(...args);
      case 'output.experiments': return output.experiments(...args);
      case 'output.chainPanel': return output.chainPanel(...args);
      case 'new ChainGeneration': return new lab.ChainGeneration(...args);
      case 'chainGen.next': return chainGen.next(...args);
      case 'trainer.step': return trainer.step(...args);
      case 'trainer.model': return trainer.model(...args);
      default:
        if (name.startsWith('model.')) return model[name.slice(6)](...args);
        return lab[name](...args);
    }
  }

  const tally = {};
  const problems = missing.map((name) => ({ name, kind: 'an export the test does not call' }));
  const long = [];
  const before = table?.length;
  for (const [name, goods] of Object.entries(calls)) {
    if (!name.includes('.') && !name.startsWith('new ') && typeof lab[name] !== 'function') continue; // not in this build
    if (name.startsWith('new Trainer') || name.startsWith('trainer.') || name.startsWith('Trainer.')) { if (!trainer) continue; }
    if (name.startsWith('new Sampler') || name.startsWith('sampler.')) { if (!sampler) continue; }
    if (name.startsWith('new ModelOutput') || name.startsWith('output.')) { if (!output) continue; }
    if (name.startsWith('model.') && typeof model[name.slice(6)] !== 'function') continue; // not in this build
    const t = (tally[name] = { returned: 0, threw: 0 });
    for (let i = 0; i < perExport; i++) {
      // A bad call: one argument, at least, is hostile (one past the last, for an export of none).
      const n = goods.length + (goods.length === 0 || r.chance(0.1) ? 1 : 0);
      const bad = r.int(n);
      let args = Array.from({ length: n }, (_, k) => (k === bad ? hostile.pick() : arg(goods[k] ?? (() => undefined))));
      if (goods.length > 1 && r.chance(0.05)) {
        const s = hostile.shrinking();
        args = [s.values, s.trap, ...args.slice(2)];
      }
      try {
        const out = invoke(name, args);
        if (out && typeof out.free === 'function' && out !== model) out.free();
        t.returned++;
      } catch (e) {
        t.threw++;
        if (e instanceof WebAssembly.RuntimeError) {
          problems.push({ name, call: i, kind: 'trap', message: String(e).slice(0, 300) });
          return { tally, problems, long, tableBefore: before, tableAfter: table?.length };
        }
        const message = String(e?.message ?? e);
        if (message.length > 400) long.push({ name, length: message.length, start: message.slice(0, 120) });
        if (/recursive use|null pointer passed to rust|already mutably borrowed|already borrowed/.test(message)) {
          problems.push({ name, call: i, kind: 'left borrowed', message: message.slice(0, 300) });
        }
      }
      if (name === 'reader.push' && i % 50 === 49) { theReader?.free(); theReader = reader(); }
    }
    t.table = table?.length;
    // The objects the calls used still work.
    try {
      if (model.config.vocabSize !== V) throw new Error('model.config changed');
      model.forward(goodIds());
      gen.next();
      theReader?.received;
      trainer?.step(1);
      sampler?.sample(new Float32Array([2, 1, 0.5]));
      output?.nextTokenPanel({ topOnly: true });
      chainGen?.next();
      lab.softmax(new Float32Array([0, Math.log(3)]));
    } catch (e) {
      problems.push({ name, kind: 'unusable afterwards', message: String(e?.message ?? e).slice(0, 300) });
    }
  }
  theReader?.free();
  trainer?.free();
  sampler?.free();
  output?.free();
  chainGen?.free();
  gen.free();
  model.free();
  return { tally, problems, long: long.slice(0, 10), longCount: long.length, tableBefore: before, tableAfter: table?.length };
}
