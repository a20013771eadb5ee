// sample() in Node alone, and what a call is made of: µs per call at V = 65, 32 000, 128 256
// for the benchmark's settings, next to the calls
// that isolate a part of the cost (copying values in, one exp per id, copying arrays out).
//
//   node benches/sample-node.mjs            (after ./build.sh build; see docs/performance.md)
//   LOGITLAB_PKG=path/to/pkg node benches/sample-node.mjs   (another build, to compare)

import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { SETTINGS, logits } from './sample-bench.mjs';

const pkg = process.env.LOGITLAB_PKG
  ? pathToFileURL(process.env.LOGITLAB_PKG + '/') : new URL('../www/pkg/', import.meta.url);
const mod = await import(new URL('logitlab.js', pkg));
mod.initSync({ module: readFileSync(new URL('logitlab_bg.wasm', pkg)) });

function time(fn, budgetMs = 300) {
  fn(); fn();
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < budgetMs || n < 5) { fn(); n++; }
  return ((performance.now() - start) * 1000) / n;
}

const col = (s, w) => String(s).padStart(w);
console.log('wasm sample() in Node, µs/call');
console.log(`${col('V', 8)}  ${'setting'.padEnd(34)} ${col('µs/call', 9)}`);
for (const v of [65, 32000, 128256]) {
  const z = logits(v);
  for (const [name, opts] of SETTINGS) {
    let seed = 0;
    const full = time(() => mod.sample(z, { ...opts, seed: ++seed }).token);
    console.log(`${col(v, 8)}  ${name.padEnd(34)} ${col(full.toFixed(1), 9)}`);
  }
  // Parts of the cost: copy in + check + one exp per id (logsumexp), the same plus a V-long
  // Float32Array out (softmax), and the JS side of reading a 128 KB result (a Float32Array copy).
  const lse = time(() => mod.logsumexp(z));
  const sm = time(() => mod.softmax(z, 0.8));
  const copy = time(() => new Float32Array(z));
  console.log(`${col(v, 8)}  ${'(logsumexp: copy in, 1 exp/id)'.padEnd(34)} ${col(lse.toFixed(1), 9)}`);
  console.log(`${col(v, 8)}  ${'(softmax: + a Float32Array out)'.padEnd(34)} ${col(sm.toFixed(1), 9)}`);
  console.log(`${col(v, 8)}  ${'(JS copy of a Float32Array)'.padEnd(34)} ${col(copy.toFixed(1), 9)}`);
}
