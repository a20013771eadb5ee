// llama2.c's run.c against our wasm on the same stories15M-shaped file, side by side in one run:
// each round runs run.c (greedy, 256 steps; it prints its own tokens/s), then our wasm in Node
// and in headless Chromium (Model.fromFiles as the page's worker loads it, then greedy tokens
// one at a time with the KV cache over the same positions), and prints the ratios of that round.
//
//   RUNC=path/to/run node benches/llama2c-runc.mjs DIR [ROUNDS]
//
// run.c is llama2.c's (MIT), built outside the repository:
// `gcc -Ofast -march=native -o run run.c -lm`. DIR holds model.bin and tokenizer.bin
// (benches/make_llama2c_shape.py 15M DIR).
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { startServer } from '../tests/e2e/lib/server.mjs';
import { loopbackPage } from '../tests/e2e/lib/harness.mjs';

const [dir, roundsArg] = process.argv.slice(2);
const runc = process.env.RUNC;
if (!dir || !runc) {
  console.error('usage: RUNC=path/to/run node benches/llama2c-runc.mjs DIR [ROUNDS]');
  process.exit(2);
}
const rounds = Number(roundsArg ?? 4);
const PROMPT = 'Once upon a time';
// run.c's `-n 256` times positions 1..255; the prompt is 5 tokens with BOS, so 240 generated
// tokens after the first cover nearly the same positions.
const N = 240;

function runC() {
  const r = spawnSync(runc, [`${dir}/model.bin`, '-z', `${dir}/tokenizer.bin`, '-t', '0', '-n', '256',
    '-i', PROMPT], { encoding: 'utf8' });
  const m = /achieved tok\/s: ([\d.]+)/.exec(r.stderr);
  if (!m) throw new Error(`run.c printed no tokens/s: ${r.stderr}`);
  return Number(m[1]);
}

/** Greedy tokens/s of `Model` on the files, N tokens after the first (the same code in Node and in the page). */
function timeGeneration(Model, files, n, now) {
  const model = Model.fromFiles(files);
  const gen = model.generate('Once upon a time', { temperature: 0 });
  gen.next();
  const t = now();
  for (let i = 0; i < n; i++) gen.next();
  const secs = (now() - t) / 1000;
  gen.free();
  model.free();
  return n / secs;
}

const files = {};
for (const name of ['model.bin', 'tokenizer.bin']) files[name] = new Uint8Array(readFileSync(`${dir}/${name}`));
const mod = await import('../www/pkg/logitlab.js');
mod.initSync({ module: readFileSync(new URL('../www/pkg/logitlab_bg.wasm', import.meta.url)) });

const { server, url } = await startServer({ root: 'www', mounts: { '/l2c/': dir } });
const { browser, page, outside } = await loopbackPage();
try {
  await page.goto(url);
  await page.evaluate(async () => {
    const { default: init, Model } = await import('./pkg/logitlab.js');
    await init();
    const files = {};
    for (const name of ['model.bin', 'tokenizer.bin']) {
      files[name] = new Uint8Array(await (await fetch(`l2c/${name}`)).arrayBuffer());
    }
    window.bench = { Model, files };
  });
  const chromium = () => page.evaluate(([n, src]) => {
    const timeGeneration = new Function(`return (${src})`)();
    return timeGeneration(window.bench.Model, window.bench.files, n, () => performance.now());
  }, [N, timeGeneration.toString()]);

  console.log(`llama2.c stories15M shape, greedy, one thread, tokens/s (${N} tokens with the KV cache)`);
  console.log(['round', 'run.c', 'wasm Node', 'ratio', 'wasm Chromium', 'ratio'].map((s) => s.padStart(15)).join(''));
  const col = (x) => x.padStart(15);
  // Warm-up: V8 compiles hot wasm functions again, optimised, after their first calls.
  timeGeneration(mod.Model, files, 40, () => performance.now());
  await page.evaluate(([src]) => new Function(`return (${src})`)()(window.bench.Model, window.bench.files, 40,
    () => performance.now()), [timeGeneration.toString()]);
  for (let r = 1; r <= rounds; r++) {
    const c = runC();
    const n = timeGeneration(mod.Model, files, N, () => performance.now());
    const b = await chromium();
    console.log([String(r), c.toFixed(0), n.toFixed(0), `${(n / c).toFixed(2)}×`, b.toFixed(0), `${(b / c).toFixed(2)}×`]
      .map(col).join(''));
  }
  if (outside.length) throw new Error(`the page reached beyond localhost: ${outside.join(', ')}`);
} finally {
  await browser.close();
  server.close();
}
