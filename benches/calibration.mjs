// calibration() in Node: the default model over 20 000 tokens of a text (the model's forward
// pass over every window, the reliability figures, the temperature fit), and distillLoss on
// one page-sized batch (8 × 64 positions, V = 84) for each of the six pipelines.
//
//   node benches/calibration.mjs            (after ./build.sh build; see docs/performance.md)
//   LOGITLAB_PKG=path/to/pkg node benches/calibration.mjs   (another build)

import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const pkg = process.env.LOGITLAB_PKG
  ? pathToFileURL(process.env.LOGITLAB_PKG + '/') : new URL('../www/pkg/', import.meta.url);
const mod = await import(new URL('logitlab.js', pkg));
mod.initSync({ module: readFileSync(new URL('logitlab_bg.wasm', pkg)) });

const model = mod.Model.fromBytes(readFileSync(new URL('../www/models/default.safetensors', import.meta.url)));
const text = readFileSync(new URL('../www/texts/romeo-and-juliet.txt', import.meta.url), 'utf8').slice(0, 20000);
const times = [];
let r;
for (let i = 0; i < 3; i++) {
  const start = performance.now();
  r = mod.calibration(model, text, { bins: 15, fit: true });
  times.push(performance.now() - start);
}
times.sort((a, b) => a - b);
console.log(`calibration, default model, ${r.tokens} tokens (${r.fitPositions} fitted, ` +
  `${r.positions} measured): ${(times[1] / 1000).toFixed(2)} s (median of 3; the issue asks ≤ 2 s)`);
console.log(`  T = ${r.temperature.toFixed(4)}, ECE ${r.ece.toFixed(4)} → ${r.after.ece.toFixed(4)}, ` +
  `NLL ${r.nll.toFixed(4)} → ${r.after.nll.toFixed(4)}, accuracy ${r.accuracy.toFixed(4)}`);

const [n, v] = [8 * 64, 84];
let seed = 1;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 6 - 3;
const student = Float32Array.from({ length: n * v }, rand);
const teacher = Float32Array.from({ length: n * v }, rand);
const targets = Int32Array.from({ length: n }, (_, i) => (i * 7) % v);
for (const { name } of mod.distillPipelines()) {
  const start = performance.now();
  let k = 0;
  while (performance.now() - start < 300) { mod.distillLoss(student, teacher, targets, { pipeline: name }); k++; }
  console.log(`distillLoss ${name.padEnd(14)} ${((performance.now() - start) / k).toFixed(2)} ms per 512 × 84 batch`);
}
