// The sampler workbench in Node: µs per `sampler.sample` call at V = 151 936 for each step
// alone and each preset (benches/sample-bench.mjs's CHAINS), next to `sample()`.
//
//   node benches/sampler-node.mjs           (after ./build.sh build; see docs/performance.md)
//   LOGITLAB_PKG=path/to/pkg node benches/sampler-node.mjs

import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { CHAIN_VOCAB, runChains } from './sample-bench.mjs';

const pkg = process.env.LOGITLAB_PKG
  ? pathToFileURL(process.env.LOGITLAB_PKG + '/') : new URL('../www/pkg/', import.meta.url);
const mod = await import(new URL('logitlab.js', pkg));
mod.initSync({ module: readFileSync(new URL('logitlab_bg.wasm', pkg)) });

console.log(`wasm Sampler.sample in Node at V = ${CHAIN_VOCAB}, µs/call, median (best) of 9 rounds`);
for (const r of runChains(mod, () => performance.now())) {
  console.log(`  ${r.setting.padEnd(36)} ${r.us.toFixed(1).padStart(9)} (${r.best.toFixed(1)})`);
}
