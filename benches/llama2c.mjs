// A llama2.c model of stories15M's shape in headless Chromium, as the page's worker loads it
// (Model.fromFiles), then 200 greedy tokens one at a time with the KV cache, and how long the
// first token takes once the files are in memory.   node benches/llama2c.mjs DIR
import { startServer } from '../tests/e2e/lib/server.mjs';
import { launchChromium } from '../tests/e2e/lib/harness.mjs';

const dir = process.argv[2];
const { server, url } = await startServer({ root: 'www', mounts: { '/l2c/': dir } });
const browser = await launchChromium();
try {
  const page = await browser.newPage();
  await page.goto(url);
  const r = await page.evaluate(async () => {
    const { default: init, Model } = await import('./pkg/logitlab.js');
    const wasm = await init();
    const files = {};
    for (const name of ['model.bin', 'tokenizer.bin']) {
      files[name] = new Uint8Array(await (await fetch(`l2c/${name}`)).arrayBuffer());
    }
    const t0 = performance.now();
    const model = Model.fromFiles(files);
    const gen = model.generate('Once upon a time', { temperature: 0 });
    gen.next();
    const first = performance.now() - t0;
    const n = 200;
    const t1 = performance.now();
    for (let i = 0; i < n; i++) gen.next();
    const secs = (performance.now() - t1) / 1000;
    return { n, secs, first, memory: wasm.memory.buffer.byteLength, bytes: files['model.bin'].length };
  });
  console.log(`wasm in Chromium llama2.c stories15M shape (one thread): ${(r.n / r.secs).toFixed(0)} tokens/s `
    + `(${(r.secs * 1e3 / r.n).toFixed(2)} ms/token); first token ${r.first.toFixed(0)} ms after the files are in memory; `
    + `wasm memory ${(r.memory / 1e6).toFixed(0)} MB for a ${(r.bytes / 1e6).toFixed(0)} MB file`);
} finally {
  await browser.close();
  server.close();
}
