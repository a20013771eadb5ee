// Two builds of ours on one GGUF file in one headless Chromium page, in alternate rounds, so that
// the load of the moment slows both alike: a kernel change measured before against after. Each
// round is the prompt "Once upon a", then TOKENS greedy tokens one at a time with the KV cache;
// prints every round's tokens/s, the medians and their ratio.
//
//   node benches/gguf-ab.mjs BUILD_A BUILD_B FILE.gguf [ROUNDS] [TOKENS]
//
// BUILD_A and BUILD_B are folders as `./build.sh build` writes www/pkg (logitlab.js and its wasm).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { startServer } from '../tests/e2e/lib/server.mjs';
import { loopbackPage } from '../tests/e2e/lib/harness.mjs';
import { alternate } from './lib/ab.mjs';

const [a, b, file, roundsArg, tokensArg] = process.argv.slice(2);
if (!a || !b || !file) {
  console.error('usage: node benches/gguf-ab.mjs BUILD_A BUILD_B FILE.gguf [ROUNDS] [TOKENS]');
  process.exit(2);
}
const rounds = Number(roundsArg ?? 6);
const tokens = Number(tokensArg ?? 32);
const blank = mkdtempSync(join(tmpdir(), 'gguf-ab-'));
writeFileSync(join(blank, 'index.html'), '<!doctype html><meta charset="utf-8"><title>bench</title>');
const { server, url } = await startServer({ root: blank, mounts: { '/a/': a, '/b/': b, '/gguf/': dirname(file) } });
const { browser, page, outside } = await loopbackPage();
try {
  await page.goto(url);
  await page.evaluate(async (name) => {
    const bytes = new Uint8Array(await (await fetch(`/gguf/${name}`)).arrayBuffer());
    window.models = {};
    for (const k of ['a', 'b']) {
      const lab = await import(`/${k}/logitlab.js`);
      await lab.default();
      window.models[k] = lab.Model.fromFiles({ 'model.gguf': bytes });
    }
  }, basename(file));
  const time = (k) => page.evaluate(([k, n]) => {
    const gen = window.models[k].generate('Once upon a', { temperature: 0 });
    gen.next();
    const t = performance.now();
    for (let i = 0; i < n; i++) gen.next();
    const secs = (performance.now() - t) / 1000;
    gen.free();
    return n / secs;
  }, [k, tokens]);
  await alternate(time, rounds, { a, b }, 2);
  if (outside.length) throw new Error(`the page reached beyond localhost: ${outside.join(', ')}`);
} finally {
  await browser.close();
  server.close();
}
