// 10 000 seeded junk calls to every export of each wasm build in headless Chromium (the calls
// live in lib/junk-calls.mjs): the sampling lab's (www/pkg), the chat build's (www/pkg-chat, which
// adds applyChatTemplate) and the training view's (www/pkg-train, which adds Trainer). Each call
// must return or throw an Error that names an argument, never trap.
// Afterwards the module must still answer correctly: softmax([0, ln 3]) = [1/4, 3/4], and the
// default model's greedy text is the one tests/common/mod.rs pins for the native tests.
//
//   JUNK_CALLS=100000 JUNK_SEED=7 node --test tests/e2e/junk.test.mjs   (a bigger run)

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startServer } from './lib/server.mjs';
import { launchChromium } from './lib/harness.mjs';

const CALLS = Number(process.env.JUNK_CALLS ?? 10_000);
const SEED = Number(process.env.JUNK_SEED ?? 1);
const HOSTILE = Number(process.env.HOSTILE_CALLS ?? 10_000);

/** A Rust string constant from tests/common/mod.rs, so the expectation is written once. */
function pinned(name) {
  const src = readFileSync(new URL('../common/mod.rs', import.meta.url), 'utf8');
  const m = src.match(new RegExp(`pub const ${name}: &str =\\s*"((?:[^"\\\\]|\\\\.)*)";`));
  assert.ok(m, `${name} not found in tests/common/mod.rs`);
  return JSON.parse(`"${m[1]}"`);
}

let server, browser, page;
before(async () => {
  const started = await startServer({ root: 'www' });
  server = started.server;
  browser = await launchChromium();
  page = await browser.newPage();
  // The junk module is not part of the page: hand it over from this folder.
  await page.route('**/__junk/*.mjs', (r) => r.fulfill({
    path: new URL(`./lib/${new URL(r.request().url()).pathname.split('/').pop()}`, import.meta.url).pathname,
    contentType: 'text/javascript',
  }));
  await page.goto(started.url + 'pkg/logitlab.js');
});
after(async () => {
  await browser?.close();
  server?.close();
});

for (const [name, path] of [['sampling lab build', '/pkg/logitlab.js'],
  ['chat build', '/pkg-chat/logitlab_chat.js'], ['training build', '/pkg-train/logitlab_train.js']]) {
  test(`${name}: ${CALLS} junk calls: every one returns or throws an Error naming an argument, no trap`, async () => {
    const started = Date.now();
    const result = await page.evaluate(async ({ calls, seed, path }) => {
      const lab = await import(path);
      await lab.default();
      const bytes = new Uint8Array(await (await fetch('/models/default.safetensors')).arrayBuffer());
      const { runJunk } = await import('/__junk/junk-calls.mjs');
      return runJunk(lab, { calls, seed, modelBytes: bytes });
    }, { calls: CALLS, seed: SEED, path });
    const { tally, problems, problemCount } = result;
    console.log(`junk, ${name}: ${tally.calls} calls in ${((Date.now() - started) / 1000).toFixed(1)} s, `
      + `${tally.returned} returned, ${tally.errors} threw an Error `
      + `(${tally.glueTypeErrors} of them wasm-bindgen TypeErrors for a BigInt or Symbol), `
      + `${problemCount} problems`);
    for (const [call, t] of Object.entries(tally.byExport)) {
      console.log(`  ${call}: ${t.returned} returned, ${t.errors} errors`);
    }
    assert.deepEqual(problems, []);
    assert.equal(tally.calls, CALLS);
    // Only the training build has Trainer, and only the chat build applyChatTemplate; their
    // calls must have been made there.
    assert.equal(Boolean(tally.byExport.Trainer), path.includes('train'));
    assert.equal(Boolean(tally.byExport['model.applyChatTemplate']), path.includes('chat'));
  });

  test(`${name}: ${HOSTILE} hostile calls to every export: no trap, nothing left borrowed or leaked, short errors`, async () => {
    const started = Date.now();
    const result = await page.evaluate(async ({ perExport, seed, path }) => {
      const lab = await import(path);
      const wasm = await lab.default();
      const bytes = new Uint8Array(await (await fetch('/models/default.safetensors')).arrayBuffer());
      const { runHostile } = await import('/__junk/hostile-calls.mjs');
      return runHostile(lab, wasm, { perExport, seed, modelBytes: bytes });
    }, { perExport: HOSTILE, seed: SEED, path });
    const { tally, problems, long, longCount, tableBefore, tableAfter } = result;
    const calls = Object.values(tally).reduce((n, t) => n + t.returned + t.threw, 0);
    console.log(`hostile, ${name}: ${calls} calls to ${Object.keys(tally).length} exports in `
      + `${((Date.now() - started) / 1000).toFixed(1)} s; table of JS references ${tableBefore} → ${tableAfter}; `
      + `${longCount} errors over 400 characters`);
    if (process.env.HOSTILE_VERBOSE) console.log(JSON.stringify({ tally, long }, null, 1));
    assert.deepEqual(problems, []);
    assert.deepEqual(long, []);
    for (const [call, t] of Object.entries(tally)) assert.equal(t.returned + t.threw, HOSTILE, call);
    // A leaked slot per call would grow the table by thousands; a few grow it as live objects come and go.
    assert.ok(tableAfter - tableBefore < 1024, `the table grew from ${tableBefore} to ${tableAfter}`);
  });

  test(`${name}: after the junk, the module still answers correctly`, async () => {
    const out = await page.evaluate(async (path) => {
      const lab = await import(path);
      const p = Array.from(lab.softmax(new Float32Array([0, Math.log(3)])));
      const bytes = new Uint8Array(await (await fetch('/models/default.safetensors')).arrayBuffer());
      const model = lab.Model.fromBytes(bytes);
      const gen = model.generate('ROMEO:\n', { temperature: 0, seed: 0 });
      let text = '';
      for (let i = 0; i < 80; i++) text += gen.next().text;
      gen.free();
      model.free();
      return { p, text };
    }, path);
    assert.ok(Math.abs(out.p[0] - 0.25) < 1e-7 && Math.abs(out.p[1] - 0.75) < 1e-7, `${out.p}`);
    assert.equal(out.text, pinned('GREEDY_80'));
  });
}
