// The sampling benchmark's grid, run on any wasm exports: in Node (run.mjs) and in headless
// Chromium (run.mjs hands this module to the page). Also the baseline a student would write in
// JS: softmax, a full sort of the vocabulary, then top-k / top-p / min-p on the sorted list.

export const VOCABS = [65, 32000, 128256, 256000];
export const SETTINGS = [
  ['T=0.8', { temperature: 0.8 }],
  ['T=0.8 topK=40', { temperature: 0.8, topK: 40 }],
  ['T=0.8 topP=0.9', { temperature: 0.8, topP: 0.9 }],
  ['T=0.8 topK=50 topP=0.9 minP=0.05', { temperature: 0.8, topK: 50, topP: 0.9, minP: 0.05 }],
];

// The same logits as benches/sample.rs would be ideal but need the Rust RNG; any heavy-headed
// distribution with a long tail measures the same work.
export function logits(v) {
  let s = v >>> 0 || 1;
  const next = () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s / 4294967296; };
  const z = new Float32Array(v);
  for (let i = 0; i < v; i++) {
    const g = Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
    z[i] = 2 * g + (i % 97 === 0 ? 6 : 0);
  }
  return z;
}

/** What a student would write: full softmax, full sort, then the filters. */
export function naiveSample(z, { temperature = 1, topK = 0, topP = 1, minP = 0 }, u) {
  const v = z.length;
  let m = -Infinity;
  for (let i = 0; i < v; i++) m = Math.max(m, z[i] / temperature);
  const p = new Float64Array(v);
  let sum = 0;
  for (let i = 0; i < v; i++) { p[i] = Math.exp(z[i] / temperature - m); sum += p[i]; }
  for (let i = 0; i < v; i++) p[i] /= sum;
  const order = Array.from({ length: v }, (_, i) => i).sort((a, b) => p[b] - p[a] || a - b);
  let n = topK > 0 && topK < v ? topK : v;
  if (topP < 1) {
    let mass = 0, total = 0;
    for (let j = 0; j < n; j++) total += p[order[j]];
    for (let j = 0; j < n; j++) { mass += p[order[j]]; if (mass >= topP * total) { n = j + 1; break; } }
  }
  if (minP > 0) { const cut = minP * p[order[0]]; while (n > 1 && p[order[n - 1]] < cut) n--; }
  let kept = 0;
  for (let j = 0; j < n; j++) kept += p[order[j]];
  let acc = 0;
  for (let j = 0; j < n; j++) { acc += p[order[j]] / kept; if (u < acc) return order[j]; }
  return order[n - 1];
}

function time(fn, now, budgetMs = 300) {
  fn(); fn();
  let n = 0;
  const start = now();
  while (now() - start < budgetMs || n < 5) { fn(); n++; }
  return ((now() - start) * 1000) / n;
}

/** Runs the grid; returns rows { v, setting, wasm, js } in µs per call. */
export function runGrid(wasm, now) {
  const rows = [];
  for (const v of VOCABS) {
    const z = logits(v);
    for (const [name, opts] of SETTINGS) {
      let seed = 0;
      const wasmUs = time(() => wasm.sample(z, { ...opts, seed: ++seed }).token, now);
      let u = 0.123;
      const jsUs = time(() => { u = (u * 9301 + 49297) % 233280 / 233280; return naiveSample(z, opts, u); }, now);
      rows.push({ v, setting: name, wasm: wasmUs, js: jsUs });
    }
  }
  return rows;
}

// The sampler workbench: each step alone, then the two presets, at Qwen's vocabulary size
// (151 936), with a history of 256 ids for the steps that read one.
export const CHAIN_VOCAB = 151936;
export const CHAINS = [
  ['temperature t=0.8', [{ kind: 'temperature', t: 0.8 }]],
  ['dynamicTemperature t=0.8 range=0.5', [{ kind: 'dynamicTemperature', t: 0.8, range: 0.5 }]],
  ['topK k=40 (llama.cpp)', [{ kind: 'topK', k: 40, rule: 'llama.cpp' }]],
  ['topK k=40 (huggingface)', [{ kind: 'topK', k: 40 }]],
  ['topP p=0.9', [{ kind: 'topP', p: 0.9 }]],
  ['minP p=0.05', [{ kind: 'minP', p: 0.05 }]],
  ['typical p=0.9', [{ kind: 'typical', p: 0.9 }]],
  ['epsilon 3e-4', [{ kind: 'epsilon', epsilon: 3e-4 }]],
  ['eta 3e-4', [{ kind: 'eta', epsilon: 3e-4 }]],
  ['topNSigma n=1', [{ kind: 'topNSigma', n: 1 }]],
  ['xtc probability=1 threshold=0.1', [{ kind: 'xtc', probability: 1, threshold: 0.1 }]],
  ['repetitionPenalty 1.3', [{ kind: 'repetitionPenalty', penalty: 1.3 }]],
  ['penalties 64 1.1 0.1 0.1', [{ kind: 'penalties', lastN: 64, repeat: 1.1, frequency: 0.1, presence: 0.1 }]],
  ['noRepeatNgram n=3', [{ kind: 'noRepeatNgram', n: 3 }]],
  ['dry 0.8 1.75 2 64', [{ kind: 'dry', multiplier: 0.8 }]],
  ['logitBias 16 ids', [{ kind: 'logitBias', bias: Array.from({ length: 16 }, (_, i) => [i * 977, i % 2 ? -2 : 1.5]) }]],
  ['mirostat tau=5', [{ kind: 'mirostat' }]],
  ['mirostatV2 tau=5', [{ kind: 'mirostatV2' }]],
  ['preset huggingface', 'huggingface'],
  ['preset llama.cpp', 'llama.cpp'],
];

/** A history of 256 ids with repeats, as generation leaves one. */
export function history(v) {
  const h = new Uint32Array(256);
  for (let i = 0; i < h.length; i++) h[i] = i % 5 === 0 ? h[i >> 1] : (i * 2654435761) % v;
  return h;
}

/** Runs the workbench grid; rows { setting, us, best } in µs per `sampler.sample` call (median
 * and best of the rounds), and `sample` with Hugging Face's default top-k 50 for comparison. */
export function runChains(wasm, now, rounds = 9) {
  return runChainsOn([wasm], now, rounds).map(({ setting, us, best }) => ({ setting, us: us[0], best: best[0] }));
}

/** The workbench grid on several builds at once: rows { setting, us: [...], best: [...] }, one
 * figure per build. `only` (a RegExp) keeps the settings whose name it matches. */
export function runChainsOn(builds, now, rounds = 9, only = null) {
  const z = logits(CHAIN_VOCAB);
  const h = history(CHAIN_VOCAB);
  const runs = [];
  for (const [name, chain] of CHAINS.filter(([name]) => !only || only.test(name))) {
    runs.push({
      setting: name,
      calls: builds.map((wasm) => {
        const s = new wasm.Sampler(chain, { seed: 1 });
        return () => s.sample(z, { history: h }).token;
      }),
    });
  }
  if (!only || only.test('sample() topK=50')) {
    runs.push({
      setting: 'sample() topK=50',
      calls: builds.map((wasm) => {
        let seed = 0;
        return () => wasm.sample(z, { topK: 50, seed: ++seed }).token;
      }),
    });
  }
  for (const run of runs) run.times = builds.map(() => []);
  // Rounds interleave the settings and the builds, so that a busy moment of the machine slows
  // all alike; the median and the best of the rounds are reported.
  for (let r = 0; r < rounds; r++) {
    for (const run of runs) {
      run.calls.forEach((call, b) => run.times[b].push(time(call, now, 60)));
    }
  }
  return runs.map(({ setting, times }) => {
    const sorted = times.map((t) => [...t].sort((a, b) => a - b));
    return { setting, us: sorted.map((s) => s[s.length >> 1]), best: sorted.map((s) => s[0]) };
  });
}
