// Two builds of ours on GPT-2 small's Q8_0 copy in one headless Chromium page, in alternate
// rounds, so that the load of the moment slows both alike: a kernel change measured before
// against after. Each build loads the f32 model, quantises it (`model.quantize('q8_0')`) and
// frees the f32; then ROUNDS rounds of TOKENS greedy tokens one at a time with the KV cache.
// Prints every round's tokens/s, the medians and their ratio.
//
//   node benches/gpt2-q8-ab.mjs BUILD_A BUILD_B DIR [ROUNDS] [TOKENS]
//
// BUILD_A and BUILD_B are folders as `./build.sh build` writes www/pkg (logitlab.js and its wasm).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../tests/e2e/lib/server.mjs';
import { loopbackPage } from '../tests/e2e/lib/harness.mjs';
import { alternate } from './lib/ab.mjs';

const [a, b, dir, roundsArg, tokensArg] = process.argv.slice(2);
if (!a || !b || !dir) {
  console.error('usage: node benches/gpt2-q8-ab.mjs BUILD_A BUILD_B DIR [ROUNDS] [TOKENS]');
  process.exit(2);
}
const rounds = Number(roundsArg ?? 8);
const tokens = Number(tokensArg ?? 16);
const blank = mkdtempSync(join(tmpdir(), 'gpt2-q8-ab-'));
writeFileSync(join(blank, 'index.html'), '<!doctype html><meta charset="utf-8"><title>bench</title>');
const { server, url } = await startServer({ root: blank, mounts: { '/a/': a, '/b/': b, '/gpt2/': dir } });
const { browser, page, outside } = await loopbackPage();
try {
  await page.goto(url);
  await page.evaluate(async () => {
    const files = {};
    for (const name of ['config.json', 'model.safetensors', 'tokenizer.json']) {
      files[name] = new Uint8Array(await (await fetch(`/gpt2/${name}`)).arrayBuffer());
    }
    window.gens = {};
    for (const k of ['a', 'b']) {
      const lab = await import(`/${k}/logitlab.js`);
      await lab.default();
      const f32 = lab.Model.fromFiles(files);
      const q8 = f32.quantize('q8_0');
      f32.free();
      const gen = q8.generate('Romeo:\nBut soft', { temperature: 0 });
      gen.next();
      window.gens[k] = gen;
    }
  });
  const time = (k) => page.evaluate(([k, n]) => {
    const t = performance.now();
    for (let i = 0; i < n; i++) window.gens[k].next();
    return n / ((performance.now() - t) / 1000);
  }, [k, tokens]);
  await alternate(time, rounds, { a, b }, 3);
  if (outside.length) throw new Error(`the page reached beyond localhost: ${outside.join(', ')}`);
} finally {
  await browser.close();
  server.close();
}
