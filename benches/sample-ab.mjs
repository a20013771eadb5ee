// sample() of two builds side by side in one Node process, interleaved round by round so that
// a loaded machine slows both alike: µs per call (median and best of the rounds) at V = 65 and
// 128 256, for before/after comparisons (docs/performance.md).
//
//   node benches/sample-ab.mjs BUILD_A            (B = www/pkg)
//   node benches/sample-ab.mjs BUILD_A BUILD_B    (two other builds)
//   ONLY=topP ROUNDS=30 node benches/sample-ab.mjs ...          (top-p at V = 128 256 alone)

import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { SETTINGS, logits } from './sample-bench.mjs';

async function load(dir) {
  const url = pathToFileURL(dir.replace(/\/?$/, '/'));
  const mod = await import(new URL('logitlab.js', url));
  mod.initSync({ module: readFileSync(new URL('logitlab_bg.wasm', url)) });
  return mod;
}

const [a, b] = process.argv.slice(2);
if (!a) throw new Error('usage: node benches/sample-ab.mjs BUILD_A [BUILD_B]');
const builds = [['A', await load(a)], ['B', await load(b ?? new URL('../www/pkg', import.meta.url).pathname)]];
const ROUNDS = Number(process.env.ROUNDS ?? 15);

const stats = (xs) => {
  const s = [...xs].sort((x, y) => x - y);
  return { median: s[Math.floor(s.length / 2)], best: s[0] };
};
const col = (s, w) => String(s).padStart(w);
console.log(`A = ${a}, B = ${b ?? 'www/pkg'}; µs per call, median (best) of ${ROUNDS} interleaved rounds`);
console.log(`${col('V', 8)}  ${'setting'.padEnd(34)} ${col('A', 16)} ${col('B', 16)}`);
// ONLY=topP: top-p at V = 128 256 alone; ONLY=<setting name>: that one, at both sizes.
const only = process.env.ONLY === 'topP' ? 'T=0.8 topP=0.9' : process.env.ONLY;
for (const v of process.env.ONLY === 'topP' ? [128256] : [65, 128256]) {
  const z = logits(v);
  const calls = v < 1000 ? 2000 : 20;
  for (const [name, opts] of SETTINGS.filter(([name]) => !only || name === only)) {
    const times = { A: [], B: [] };
    for (const [, mod] of builds) for (let i = 0; i < 5; i++) mod.sample(z, { ...opts, seed: i });
    for (let r = 0; r < ROUNDS; r++) {
      for (const [label, mod] of builds) {
        const start = performance.now();
        for (let i = 0; i < calls; i++) mod.sample(z, { ...opts, seed: i + 1 });
        times[label].push(((performance.now() - start) * 1000) / calls);
      }
    }
    const [sa, sb] = [stats(times.A), stats(times.B)];
    const fmt = (s) => `${s.median.toFixed(1)} (${s.best.toFixed(1)})`;
    console.log(`${col(v, 8)}  ${name.padEnd(34)} ${col(fmt(sa), 16)} ${col(fmt(sb), 16)}`);
  }
}
