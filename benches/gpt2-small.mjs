// GPT-2 small (random weights of its shape) in headless Chromium: loaded through
// Model.fromFiles as the page's worker does, then 64 tokens one at a time with the KV cache.
// Reports tokens/s and the wasm memory the model needs.   node benches/gpt2-small.mjs DIR
import { startServer } from '../tests/e2e/lib/server.mjs';
import { launchChromium } from '../tests/e2e/lib/harness.mjs';

const dir = process.argv[2] ?? 'target/gpt2-small';
const { server, url } = await startServer({ root: 'www', mounts: { '/gpt2/': dir } });
const browser = await launchChromium();
try {
  const page = await browser.newPage();
  await page.goto(url);
  const r = await page.evaluate(async () => {
    const { default: init, Model } = await import('./pkg/logitlab.js');
    const wasm = await init();
    const files = {};
    for (const name of ['config.json', 'model.safetensors', 'tokenizer.json']) {
      files[name] = new Uint8Array(await (await fetch(`gpt2/${name}`)).arrayBuffer());
    }
    const t0 = performance.now();
    const model = Model.fromFiles(files);
    const load = (performance.now() - t0) / 1000;
    const fileBytes = files['model.safetensors'].length;
    const gen = model.generate('Romeo:\nBut soft', { temperature: 0 });
    gen.next();
    const n = 64;
    const t1 = performance.now();
    for (let i = 0; i < n; i++) gen.next();
    const secs = (performance.now() - t1) / 1000;
    return { n, secs, load, memory: wasm.memory.buffer.byteLength, fileBytes, params: model.config.parameters };
  });
  const mb = (b) => (b / 1e6).toFixed(0);
  console.log(`wasm in Chromium GPT-2 small (one thread): ${(r.n / r.secs).toFixed(1)} tokens/s (${(r.secs * 1e3 / r.n).toFixed(1)} ms/token, `
    + `${r.n} tokens with the KV cache; loaded in ${r.load.toFixed(2)} s); wasm memory ${mb(r.memory)} MB `
    + `= ${(r.memory / (4 * r.params)).toFixed(2)}× the f32 weights (${mb(4 * r.params)} MB; file ${mb(r.fileBytes)} MB)`);
} finally {
  await browser.close();
  server.close();
}
