// The wasm half of `./build.sh bench`: the sampling grid in Node and in headless Chromium, next
// to the full-sort JS baseline measured the same way. Prints µs per call.
//
//   node benches/run.mjs            (after ./build.sh build)

import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { performance } from 'node:perf_hooks';
import { startServer } from '../tests/e2e/lib/server.mjs';
import { launchChromium } from '../tests/e2e/lib/harness.mjs';
import { runChains, runGrid, CHAIN_VOCAB } from './sample-bench.mjs';

const wasmPath = new URL('../www/pkg/logitlab_bg.wasm', import.meta.url);

async function inNode() {
  const mod = await import('../www/pkg/logitlab.js');
  mod.initSync({ module: readFileSync(wasmPath) });
  return runGrid(mod, () => performance.now());
}

/** The sampler workbench's grid (each step alone, each preset) in Node. */
async function chainsInNode() {
  const mod = await import('../www/pkg/logitlab.js');
  mod.initSync({ module: readFileSync(wasmPath) });
  return runChains(mod, () => performance.now());
}

function printChains(title, rows) {
  console.log(`\n${title}: Sampler.sample µs/call at V = ${CHAIN_VOCAB}, median (best) of 9 rounds`);
  for (const r of rows) console.log(`  ${r.setting.padEnd(36)} ${r.us.toFixed(1).padStart(9)} (${r.best.toFixed(1)})`);
}

async function inChromium() {
  const { server, url } = await startServer({ root: 'www' });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    // The bench module is not part of the page: hand it over from this folder.
    await page.route('**/__bench/sample-bench.mjs', (r) => r.fulfill({
      path: new URL('./sample-bench.mjs', import.meta.url).pathname,
      contentType: 'text/javascript',
    }));
    await page.goto(url + 'pkg/logitlab.js');
    return await page.evaluate(async () => {
      const mod = await import('/pkg/logitlab.js');
      await mod.default();
      const { runGrid } = await import('/__bench/sample-bench.mjs');
      return runGrid(mod, () => performance.now());
    });
  } finally {
    await browser.close();
    server.close();
  }
}

function print(title, rows) {
  console.log(`\n${title}: sample() µs/call (wasm) vs full-sort JS baseline`);
  console.log(`${'V'.padStart(8)}  ${'setting'.padEnd(34)} ${'wasm µs'.padStart(10)} ${'JS sort µs'.padStart(11)} ${'speed-up'.padStart(9)}`);
  for (const r of rows) {
    console.log(`${String(r.v).padStart(8)}  ${r.setting.padEnd(34)} ${r.wasm.toFixed(1).padStart(10)} ${r.js.toFixed(1).padStart(11)} ${(r.js / r.wasm).toFixed(1).padStart(8)}×`);
  }
}

/** Page weight: what a student downloads (the .d.ts typings are not fetched). */
function pageWeight() {
  const files = [];
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (!p.endsWith('.d.ts')) files.push(p);
    }
  };
  walk('www');
  // Not the lab's: embed.js is for the page that embeds it; sw.js runs only in a deployed copy.
  files.splice(0, files.length, ...files.filter((f) => f !== 'www/embed.js' && f !== 'www/sw.js'));
  // Fetched only when the training view is used (the training build and its text), when a
  // student picks the subword model, or when a model with a chat template is loaded.
  const later = (f) => f.startsWith('www/pkg-train/') || f.startsWith('www/pkg-chat/') || f.startsWith('www/texts/') || f.startsWith('www/models/shakespeare-bpe/');
  let raw = 0, gz = 0, firstRaw = 0, firstGz = 0;
  console.log('\npage weight (www/, as served)');
  for (const f of files.sort()) {
    const b = readFileSync(f);
    const g = gzipSync(b, { level: 9 }).length;
    raw += b.length; gz += g;
    if (!later(f)) { firstRaw += b.length; firstGz += g; }
    const when = f.startsWith('www/models/shakespeare-bpe/') ? '  (when the subword model is picked)'
      : f.startsWith('www/pkg-chat/') ? '  (for a model with a chat template)' : '  (training view only)';
    console.log(`  ${String(b.length).padStart(9)} raw ${String(g).padStart(9)} gzip  ${f}${later(f) ? when : ''}`);
  }
  console.log(`  ${String(firstRaw).padStart(9)} raw ${String(firstGz).padStart(9)} gzip  the sampling lab (what a first visit loads)`);
  console.log(`  ${String(raw).padStart(9)} raw ${String(gz).padStart(9)} gzip  total, with the training view, the chat build and the subword model`);
}

/**
 * Notes on the page's own clock (ms since navigation start) when it is ready, when Generate is
 * clicked and when the first generated character is in the DOM; with `press`, clicks Generate
 * itself the moment the page is ready. Runs before the page's scripts (an init script).
 */
function pageClock(press) {
  window.__times = {};
  const t = window.__times;
  document.addEventListener('click', (e) => {
    if (e.target?.id === 'generate' && !t.click) t.click = performance.now();
  }, true);
  const observer = new MutationObserver(() => {
    if (!t.ready && document.body?.dataset.ready === '1') {
      t.ready = performance.now();
      if (press) document.getElementById('generate').click();
    }
    if (!t.token && document.getElementById('output-gen')?.textContent.length > 0) {
      t.token = performance.now();
      observer.disconnect();
    }
  });
  observer.observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-ready'] });
}

/** Time to the first generated token after load, and generation speed, in headless Chromium. */
async function pageTimings() {
  const { server, url } = await startServer({ root: 'www' });
  const browser = await launchChromium();
  const times = async (page) => page.evaluate(() => window.__times);
  const ms = (xs) => xs.map((x) => Math.round(x)).join(', ');
  try {
    // Warm the browser (its first page also starts the GPU process and network service);
    // every load below is still cold: a fresh context, so an empty cache and a new renderer.
    const warm = await browser.newPage();
    await warm.goto(`${url}favicon.svg`);
    await warm.close();
    // Generate pressed by a script the moment the page is ready.
    const own = [];
    for (let i = 0; i < 5; i++) {
      const page = await browser.newPage();
      await page.addInitScript(pageClock, true);
      await page.goto(`${url}?seed=${i}&tokens=1`);
      await page.waitForFunction(() => window.__times.token);
      own.push(await times(page));
      await page.close();
    }
    // Driven through playwright: goto, wait for ready, click, poll for the text. The wall clock
    // includes the driver's round trips, as a person's click includes their reaction time.
    const driven = [];
    for (let i = 0; i < 3; i++) {
      const page = await browser.newPage();
      await page.addInitScript(pageClock, false);
      const t0 = Date.now();
      await page.goto(`${url}?seed=${i}&tokens=1`);
      await page.waitForSelector('body[data-ready="1"]');
      await page.click('#generate');
      await page.waitForFunction(() => document.getElementById('output-gen').textContent.length > 0);
      driven.push({ wall: Date.now() - t0, ...(await times(page)) });
      await page.close();
    }
    const page = await browser.newPage();
    await page.goto(`${url}?seed=1&tokens=1000&temperature=0.8`);
    await page.waitForSelector('body[data-ready="1"]');
    await page.click('#generate');
    await page.waitForFunction(() => !document.getElementById('generate').disabled
      && document.getElementById('output-gen').textContent.length > 0, null, { timeout: 120_000 });
    const info = await page.textContent('#gen-info');
    // Picking the subword model on that warm page: its download, parse, and the first token.
    const picked = [];
    for (let i = 0; i < 3; i++) {
      await page.goto(`${url}?seed=${i}&tokens=1`);
      await page.waitForSelector('body[data-ready="1"]');
      const t0 = Date.now();
      await page.selectOption('#model-pick', 'models/shakespeare-bpe/');
      await page.waitForFunction(() => /4,096/.test(document.getElementById('status').textContent));
      const loaded = Date.now() - t0;
      await page.click('#generate');
      await page.waitForFunction(() => document.getElementById('output-gen').textContent.length > 0);
      picked.push({ loaded, token: Date.now() - t0 });
    }
    console.log('\npage in headless Chromium (cold loads, each in a fresh browser context; goal: first token <= 1000 ms)');
    console.log(`  navigation start → first generated character, Generate pressed when ready: ${ms(own.map((t) => t.token))} ms (ready at ${ms(own.map((t) => t.ready))} ms)`);
    console.log(`  driven through playwright: ${ms(driven.map((t) => t.wall))} ms wall clock from goto; on the page's clock ready at ${ms(driven.map((t) => t.ready))}, clicked at ${ms(driven.map((t) => t.click))}, first character at ${ms(driven.map((t) => t.token))} ms`);
    console.log(`  generation through the page's worker: ${info}`);
    console.log(`  picking the subword model on a warm page (goal: first token <= 1000 ms): loaded after ${ms(picked.map((t) => t.loaded))} ms, first token at ${ms(picked.map((t) => t.token))} ms (wall clock, through playwright)`);
  } finally {
    await browser.close();
    server.close();
  }
}

/**
 * Training steps/s of each model-size preset in headless Chromium: the same loop as the native
 * `cargo bench --bench train` (batch 8, crossEntropyOnLogits, no validation pass).
 */
async function trainingSpeed() {
  const { server, url } = await startServer({ root: 'www' });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.goto(url + 'pkg-train/logitlab_train.js');
    const rows = await page.evaluate(async () => {
      const mod = await import('/pkg-train/logitlab_train.js');
      await mod.default();
      const text = await (await fetch('/texts/romeo-and-juliet.txt')).text();
      const out = [];
      for (const [preset, steps] of [['tiny', 60], ['small', 30], ['medium', 8]]) {
        const t = new mod.Trainer(text, { preset }, 'crossEntropyOnLogits', 1, {
          batchSize: 8, learningRate: 1e-2, minLearningRate: 1e-3, warmupSteps: 20,
          totalSteps: 3000, evalBatches: 0,
        });
        t.step(3);
        const t0 = performance.now();
        t.step(steps);
        const secs = (performance.now() - t0) / 1000;
        const ctx = t.config.contextLength;
        t.free();
        out.push({ preset, ctx, stepsPerSec: steps / secs, tokensPerSec: (steps * 8 * ctx) / secs });
      }
      return out;
    });
    console.log('\ntraining in headless Chromium (wasm, one thread; goal: tiny >= 10 steps/s)');
    for (const r of rows) {
      console.log(`  preset ${r.preset.padEnd(6)} (batch 8 × context ${r.ctx}): ${r.stepsPerSec.toFixed(1)} steps/s, ${r.tokensPerSec.toFixed(0)} tokens/s`);
    }
  } finally {
    await browser.close();
    server.close();
  }
}

/**
 * Long use in headless Chromium: wasm memory (WebAssembly.Memory buffer size) once warm,
 * then after 100 000 generated tokens and after 2 000 training steps, used the way the page's
 * worker uses the module (every Generation, Trainer and Model freed when done).
 */
async function longSession() {
  const { server, url } = await startServer({ root: 'www' });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.goto(url + 'pkg/logitlab.js');
    const r = await page.evaluate(async () => {
      const mod = await import('/pkg/logitlab.js');
      const wasm = await mod.default();
      const mb = () => wasm.memory.buffer.byteLength / 2 ** 20;
      const bytes = new Uint8Array(await (await fetch('/models/default.safetensors')).arrayBuffer());
      const model = mod.Model.fromBytes(bytes);
      const generate = (n, seed) => {
        const gen = model.generate('ROMEO:\n', { temperature: 0.8, seed });
        for (let i = 0; i < n; i++) gen.next();
        gen.free();
      };
      generate(1000, 0); // warm
      const warm = mb();
      const t0 = performance.now();
      for (let k = 1; k <= 20; k++) generate(5000, k); // 100 000 tokens, as 20 Generate clicks
      const afterGen = mb();
      const genSecs = (performance.now() - t0) / 1000;
      model.free();
      // Training runs in the training build, as in the page's worker.
      const train = await import('/pkg-train/logitlab_train.js');
      const trainWasm = await train.default();
      const trainMb = () => trainWasm.memory.buffer.byteLength / 2 ** 20;
      const text = await (await fetch('/texts/romeo-and-juliet.txt')).text();
      const options = { batchSize: 8, learningRate: 1e-2, evalBatches: 2 };
      let t = new train.Trainer(text, { preset: 'tiny' }, 'crossEntropyOnLogits', 1, options);
      t.step(50);
      const m = t.model(); m.free();
      const warmTrain = trainMb();
      const t1 = performance.now();
      for (let k = 0; k < 100; k++) {
        t.step(20); // 2 000 steps in rounds, each with a validation pass, as Play does
        if (k % 10 === 9) { const s = t.model(); s.free(); } // "Sample text" snapshots
      }
      const afterTrain = trainMb();
      const trainSecs = (performance.now() - t1) / 1000;
      t.free();
      return { warm, afterGen, genSecs, warmTrain, afterTrain, trainSecs };
    });
    console.log('\nlong use in headless Chromium (wasm memory; goal: a few MB of growth once warm)');
    console.log(`  100 000 tokens generated in ${r.genSecs.toFixed(0)} s: ${r.warm.toFixed(1)} MB → ${r.afterGen.toFixed(1)} MB (+${(r.afterGen - r.warm).toFixed(1)} MB)`);
    console.log(`  2 000 training steps (tiny) in ${r.trainSecs.toFixed(0)} s: ${r.warmTrain.toFixed(1)} MB → ${r.afterTrain.toFixed(1)} MB (+${(r.afterTrain - r.warmTrain).toFixed(1)} MB)`);
  } finally {
    await browser.close();
    server.close();
  }
}

/** The default model's generation loop (Model.generate → next()) in wasm: tokens per second. */
async function generationSpeed(mod) {
  const bytes = new Uint8Array(readFileSync(new URL('../www/models/default.safetensors', import.meta.url)));
  const model = mod.Model.fromBytes(bytes);
  const run = (n) => {
    const g = model.generate('ROMEO:\n', { temperature: 0.8, seed: 1 });
    const t0 = performance.now();
    for (let i = 0; i < n; i++) g.next();
    const ms = performance.now() - t0;
    g.free();
    return ms;
  };
  run(50);
  const ms = run(1000);
  model.free();
  return `${(1000 / (ms / 1000)).toFixed(0)} tokens/s (${(ms / 1000).toFixed(2)} ms/token, 1000 tokens)`;
}

// `node benches/run.mjs page` runs only the page's weight and timings.
const only = process.argv[2];
if (!only) {
  const mod = await import('../www/pkg/logitlab.js');
  mod.initSync({ module: readFileSync(wasmPath) });
  console.log(`\nwasm generation in Node ${process.version}: ${await generationSpeed(mod)}`);
  print('wasm in Node ' + process.version, await inNode());
  print('wasm in headless Chromium', await inChromium());
  printChains('wasm in Node ' + process.version, await chainsInNode());
}
pageWeight();
await pageTimings();
if (!only) {
  await trainingSpeed();
  await longSession();
}
