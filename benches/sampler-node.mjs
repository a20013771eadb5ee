// The sampler workbench in Node: µs per `sampler.sample` call at V = 151 936 for each step
// alone and each preset (benches/sample-bench.mjs's CHAINS), next to `sample()`. Given a second
// build, runs both in this one process, interleaved round by round, and prints their ratio.
//
//   node benches/sampler-node.mjs                 (after ./build.sh build; see docs/performance.md)
//   node benches/sampler-node.mjs OTHER_BUILD     (www/pkg beside another build's folder)
//   LOGITLAB_PKG=path/to/pkg node benches/sampler-node.mjs ...    (another build in place of www/pkg)
//   ONLY='typical|mirostat' ROUNDS=15 node benches/sampler-node.mjs ...   (the matching settings)

import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { CHAIN_VOCAB, runChainsOn } from './sample-bench.mjs';

async function load(dir) {
  const url = pathToFileURL(dir.replace(/\/?$/, '/'));
  const mod = await import(new URL('logitlab.js', url));
  mod.initSync({ module: readFileSync(new URL('logitlab_bg.wasm', url)) });
  return mod;
}

const mine = process.env.LOGITLAB_PKG ?? new URL('../www/pkg', import.meta.url).pathname;
const other = process.argv[2];
const builds = [await load(mine), ...(other ? [await load(other)] : [])];
const rounds = Number(process.env.ROUNDS ?? 9);
const only = process.env.ONLY ? new RegExp(process.env.ONLY) : null;

console.log(`wasm Sampler.sample in Node at V = ${CHAIN_VOCAB}, µs/call, median (best) of ${rounds} rounds`);
if (other) console.log(`A = ${mine}, B = ${other}; ratio = A / B (medians)`);
const fmt = (r, b) => `${r.us[b].toFixed(1)} (${r.best[b].toFixed(1)})`.padStart(18);
for (const r of runChainsOn(builds, () => performance.now(), rounds, only)) {
  const ratio = other ? `   ${(r.us[0] / r.us[1]).toFixed(2)}` : '';
  console.log(`  ${r.setting.padEnd(36)} ${builds.map((_, b) => fmt(r, b)).join(' ')}${ratio}`);
}
