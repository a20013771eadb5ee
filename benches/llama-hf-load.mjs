// Loading Qwen2.5-0.5B's shape stored in bf16 (random weights, about 1 GB) in headless Chromium:
// 1. through the page, `?model=` naming the folder on localhost (downloaded and parsed in the
//    worker, as a student would): the resident memory of every Chromium process this script
//    starts (benches/lib/resident.mjs), sampled every 20 ms; the peak during the load minus the
//    browser idle just before (about:blank), against the size of model.safetensors;
// 2. the first token once the files are in memory: Model.fromFiles, then the first greedy token
//    of a prompt, as the page's worker does it.
//
//   node benches/llama-hf-load.mjs DIR    (DIR: `python benches/llama_hf_shape.py make qwen2.5-0.5b DIR`,
//                                          then DIR/bf16 is the folder)
import { statSync } from 'node:fs';
import { startServer } from '../tests/e2e/lib/server.mjs';
import { loopbackPage } from '../tests/e2e/lib/harness.mjs';
import { residentBytes } from './lib/resident.mjs';

const dir = `${process.argv[2]}/bf16`;
const size = statSync(`${dir}/model.safetensors`).size;
const mb = (b) => (b / 1e6).toFixed(0);
const { server, url } = await startServer({ root: 'www', mounts: { '/qwen/': dir } });
const { browser, page, outside, errors } = await loopbackPage();
try {
  await page.goto('about:blank');
  await new Promise((r) => setTimeout(r, 1000));
  const idle = residentBytes();
  let peak = idle;
  const timer = setInterval(() => { peak = Math.max(peak, residentBytes()); }, 20);
  const t0 = Date.now();
  await page.goto(`${url}?model=qwen/`);
  await page.waitForSelector('body[data-ready="1"]', { timeout: 600_000 });
  const ready = (Date.now() - t0) / 1000;
  const status = (await page.textContent('#status')).trim();
  await new Promise((r) => setTimeout(r, 500));
  clearInterval(timer);
  const after = residentBytes();
  console.log(`Qwen2.5-0.5B shape in bf16, model.safetensors of ${mb(size)} MB, through the page (?model=): `
    + `ready in ${ready.toFixed(1)} s; Chromium's resident memory above idle: peak ${mb(peak - idle)} MB = `
    + `${((peak - idle) / size).toFixed(2)}× the file, ${mb(after - idle)} MB once loaded\n  status: ${status.slice(0, 200)}`);

  // The first token, in a page of its own (the worker's model above is left behind with it).
  await page.goto(url);
  const r = await page.evaluate(async () => {
    const { default: init, Model } = await import('./pkg/logitlab.js');
    const wasm = await init();
    const files = {};
    for (const name of ['config.json', 'model.safetensors', 'tokenizer.json']) {
      files[name] = new Uint8Array(await (await fetch(`qwen/${name}`)).arrayBuffer());
    }
    const t0 = performance.now();
    const model = Model.fromFiles(files);
    const loaded = performance.now() - t0;
    const gen = model.generate('Once upon a time', { temperature: 0 });
    gen.next();
    const first = performance.now() - t0;
    const t1 = performance.now();
    for (let i = 0; i < 16; i++) gen.next();
    const perToken = (performance.now() - t1) / 16;
    return { loaded, first, perToken, memory: wasm.memory.buffer.byteLength, dtype: model.config.dtype };
  });
  console.log(`  first token ${r.first.toFixed(0)} ms after the files are in memory (Model.fromFiles ${r.loaded.toFixed(0)} ms, `
    + `then the prompt and one token); then ${r.perToken.toFixed(0)} ms/token; weights held as ${r.dtype}, `
    + `wasm memory ${mb(r.memory)} MB = ${(r.memory / size).toFixed(2)}× the file`);
  if (outside.length) throw new Error(`the page reached beyond localhost: ${outside.join(', ')}`);
  if (errors.length) console.log(`  page errors: ${errors.join(' | ').slice(0, 300)}`);
} finally {
  await browser.close();
  server.close();
}
