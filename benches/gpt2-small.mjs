// GPT-2 small (random weights of its shape) in headless Chromium: loaded through
// Model.fromFiles as the page's worker does, then 64 tokens one at a time with the KV cache.
// The same with its Q8_0 copy (`model.quantize`), the two generating in alternating rounds.
// Reports tokens/s of each, the wasm memory the model needs and what the copy adds.   node benches/gpt2-small.mjs DIR
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
    const before = wasm.memory.buffer.byteLength;
    const q8 = model.quantize('q8_0');
    const grown = wasm.memory.buffer.byteLength - before;
    const plan = q8.quantizePlan('q4_0'); // nothing left to quantise: its weights, as held
    // The f32 model and its Q8_0 copy in alternating rounds of 16 tokens: on a shared machine
    // both see the same load, and the ratio is what is compared.
    const gens = [model, q8].map((m) => {
      const g = m.generate('Romeo:\nBut soft', { temperature: 0 });
      g.next();
      return g;
    });
    const secs = [0, 0];
    const rounds = 4, per = 16;
    for (let r = 0; r < rounds; r++) {
      gens.forEach((g, k) => {
        const t1 = performance.now();
        for (let i = 0; i < per; i++) g.next();
        secs[k] += (performance.now() - t1) / 1000;
      });
    }
    return { n: rounds * per, secs, load, memory: before, grown, q8Bytes: plan.weightBytes, fileBytes, params: model.config.parameters };
  });
  const mb = (b) => (b / 1e6).toFixed(0);
  ['f32', 'Q8_0'].forEach((name, k) => {
    console.log(`wasm in Chromium GPT-2 small ${name} (one thread): ${(r.n / r.secs[k]).toFixed(1)} tokens/s `
      + `(${(r.secs[k] * 1e3 / r.n).toFixed(1)} ms/token, ${r.n} tokens with the KV cache)`);
  });
  console.log(`Q8_0 against f32: ${(r.secs[0] / r.secs[1]).toFixed(2)}× the speed. f32 loaded in ${r.load.toFixed(2)} s; `
    + `wasm memory then ${mb(r.memory)} MB = ${(r.memory / (4 * r.params)).toFixed(2)}× the f32 weights (${mb(4 * r.params)} MB; file ${mb(r.fileBytes)} MB); `
    + `the Q8_0 copy (${mb(r.q8Bytes)} MB of weights) grew it by ${mb(r.grown)} MB = ${(r.grown / r.q8Bytes).toFixed(2)}× its weights`);
} finally {
  await browser.close();
  server.close();
}
