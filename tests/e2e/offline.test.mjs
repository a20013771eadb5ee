// Offline after one visit, from a sub-path, and two deploys one after the other: a deployed copy
// (`./build.sh bundle`, what `./build.sh dist` ships) served at /course/logitlab/. After one
// visit the lab works with the network off; a second deploy never mixes the JS glue of one
// version with the wasm of the other; only the deployed files are cached.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, cp, appendFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from './lib/server.mjs';
import { launchChromium } from './lib/harness.mjs';

let site, browser, dir;
const errors = [];
const outside = [];

/** Deploys www/ (or a changed copy of it) to the site's /course/logitlab/. */
function deploy(from = 'www') {
  execFileSync('bash', ['build.sh', 'bundle', join(dir, 'site', 'course', 'logitlab'), from], { stdio: 'pipe' });
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'logitlab-offline-'));
  deploy();
  site = await startServer({ root: join(dir, 'site') });
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  site?.server.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function newContext() {
  const context = await browser.newContext();
  context.on('request', (r) => {
    const host = new URL(r.url()).hostname;
    if (host !== '127.0.0.1' && host !== 'localhost') outside.push(r.url());
  });
  // A folder's optional files (modelPathOptionalFiles) are asked for and may be absent: a 404
  // there is the answer "not in this folder", not a failure.
  const optional = /\/((generation|tokenizer)_config\.json|chat_template\.jinja)$/;
  context.on('response', (r) => {
    if (r.status() >= 400 && !(r.status() === 404 && optional.test(r.url()))) errors.push(`HTTP ${r.status()} ${r.url()}`);
  });
  context.on('page', (page) => {
    page.on('console', (m) => { if (['error', 'warning'].includes(m.type())) errors.push(m.text()); });
    page.on('pageerror', (e) => errors.push(String(e)));
  });
  return context;
}

const ready = (page) => page.waitForSelector('body[data-ready="1"]', { timeout: 30_000 });
const labUrl = () => `${site.url}course/logitlab/`;

/** Waits until a worker is active for the page's scope and its cache holds every file. */
async function cached(page) {
  return page.evaluate(async () => {
    const reg = await navigator.serviceWorker.ready;
    for (let i = 0; i < 200; i++) {
      const names = await caches.keys();
      if (reg.active?.state === 'activated' && names.length === 1) {
        const keys = await (await caches.open(names[0])).keys();
        return { scope: reg.scope, cache: names[0], files: keys.map((k) => new URL(k.url).pathname) };
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('the offline worker never finished installing');
  });
}

/** What this page gets for the glue and the wasm: which deploy each comes from. */
const versions = (page) => page.evaluate(async () => {
  const js = await (await fetch('pkg/logitlab.js')).text();
  const wasm = new Uint8Array(await (await fetch('pkg/logitlab_bg.wasm')).arrayBuffer());
  const tail = new TextDecoder().decode(wasm.subarray(wasm.length - 16));
  return { js: js.includes('// deploy 2') ? 2 : 1, wasm: tail.includes('deploy2') ? 2 : 1 };
});

test('after one visit the lab works with the network off, from a sub-path', async () => {
  const context = await newContext();
  const page = await context.newPage();
  await page.goto(labUrl());
  await ready(page);
  const c = await cached(page);
  assert.equal(c.scope, labUrl());
  const manifest = JSON.parse((await readFile(join(dir, 'site/course/logitlab/sw.js'), 'utf8'))
    .match(/const MANIFEST = (\{.*\});/)[1]);
  // Every deployed file but the models fetched only when picked and the chat build.
  const chatBuild = Object.keys(manifest.files).filter((f) => f.startsWith('pkg-chat/'));
  assert.ok(chatBuild.includes('pkg-chat/logitlab_chat_bg.wasm'));
  assert.deepEqual(manifest.lazy, [
    ...['config.json', 'model.safetensors', 'tokenizer.json'].map((f) => `models/shakespeare-bpe/${f}`),
    ...chatBuild,
  ].sort());
  const eager = Object.keys(manifest.files).filter((f) => !manifest.lazy.includes(f));
  assert.deepEqual(c.files.sort(), eager.map((f) => `/course/logitlab/${f}`).sort(),
    'exactly the deployed files are cached, but the models fetched when picked');
  assert.ok(c.files.includes('/course/logitlab/pkg-train/logitlab_train_bg.wasm'));
  assert.ok(c.files.includes('/course/logitlab/models/default.safetensors'));
  // The subword model is downloaded, and cached, when a student picks it on a page the worker
  // controls (from the second visit on).
  await page.reload();
  await ready(page);
  await page.selectOption('#model-pick', 'models/shakespeare-bpe/');
  await page.waitForFunction(() => /4\u202F096/.test(document.getElementById('status').textContent));
  const picked = await cached(page);
  for (const f of manifest.lazy.filter((f) => f.startsWith('models/'))) assert.ok(picked.files.includes(`/course/logitlab/${f}`), f);

  await context.setOffline(true);
  await page.goto(`${labUrl()}?seed=3&tokens=50`);
  await ready(page);
  await page.click('#generate');
  await page.waitForFunction(() => document.getElementById('output-gen').textContent.length === 50);
  // The training view loads the other wasm build: from the cache too.
  await page.click('.tabs a[data-view=train]');
  await page.click('#train-step');
  await page.waitForFunction(() => /^step 1/.test(document.getElementById('train-status').textContent), null, { timeout: 60_000 });
  // Something not deployed is not in the cache: it fails offline (and Chromium logs that).
  const logged = errors.length;
  const missing = await page.evaluate(() => fetch('models/other.safetensors').then((r) => r.status, () => 'network error'));
  assert.equal(missing, 'network error');
  await page.waitForTimeout(100);
  assert.deepEqual(errors.splice(logged), ['Failed to load resource: net::ERR_INTERNET_DISCONNECTED']);
  // Picked once, the subword model works offline too.
  await page.goto(`${labUrl()}?model=models/shakespeare-bpe/`);
  await ready(page);
  assert.match(await page.textContent('#status'), /4\u202F096 tokens/);
  await context.close();
});

test('a second deploy never mixes the glue of one version with the wasm of another', async () => {
  const context = await newContext();
  const first = await context.newPage();
  await first.goto(labUrl());
  await ready(first);
  await cached(first);
  // From its second load on, the page is the worker's: everything comes from the cache.
  await first.reload();
  await ready(first);
  assert.equal(await first.evaluate(() => navigator.serviceWorker.controller !== null), true);
  assert.deepEqual(await versions(first), { js: 1, wasm: 1 });

  // Deploy 2: a different glue and a different wasm (a custom section appended: still valid).
  const v2 = join(dir, 'v2');
  await cp('www', v2, { recursive: true });
  await appendFile(join(v2, 'pkg/logitlab.js'), '\n// deploy 2\n');
  const name = Buffer.from('deploy2');
  await appendFile(join(v2, 'pkg/logitlab_bg.wasm'), Buffer.concat([Buffer.from([0, name.length + 1, name.length]), name]));
  deploy(v2);

  // The open page keeps its version, even after the browser has fetched the new worker.
  await first.evaluate(async () => (await navigator.serviceWorker.ready).update());
  await first.waitForTimeout(500);
  assert.deepEqual(await versions(first), { js: 1, wasm: 1 });
  // A page opened meanwhile is still the old version, whole: the old worker controls it.
  const second = await context.newPage();
  await second.goto(labUrl());
  await ready(second);
  assert.deepEqual(await versions(second), { js: 1, wasm: 1 });
  await second.close();
  await first.close();

  // Once no page of version 1 is open, version 2 takes over, whole.
  const third = await context.newPage();
  await third.goto(labUrl());
  await ready(third);
  for (let i = 0; i < 100 && (await versions(third)).js === 1; i++) {
    await third.waitForTimeout(100);
    await third.reload();
    await ready(third);
  }
  assert.deepEqual(await versions(third), { js: 2, wasm: 2 });
  const names = await third.evaluate(() => caches.keys());
  assert.equal(names.length, 1, `old caches deleted: ${names}`);
  await third.click('#generate');
  await third.waitForFunction(() => document.getElementById('output-gen').textContent.length > 0);
  await context.close();
});

test('inside an iframe of course notes on another origin, it works offline too', async () => {
  const notesDir = join(dir, 'notes');
  await cp('www/favicon.svg', join(notesDir, 'favicon.svg'));
  const labOrigin = new URL(site.url).origin;
  const { writeFile } = await import('node:fs/promises');
  await writeFile(join(notesDir, 'index.html'), `<!doctype html><meta charset="utf-8"><title>Notes</title><link rel="icon" href="favicon.svg">
<iframe data-logitlab id="lab" src="${labUrl()}?embed=1" width="1000" height="900" title="logitlab"></iframe>`);
  const notes = await startServer({ root: notesDir, csp: `default-src 'self'; frame-src ${labOrigin}` });
  try {
    const context = await newContext();
    const page = await context.newPage();
    await page.goto(notes.url);
    const frame = () => page.frames().find((f) => f.url().startsWith(labUrl()));
    for (let i = 0; i < 100 && !frame(); i++) await page.waitForTimeout(50);
    await ready(frame());
    await cached(frame());
    await context.setOffline(true);
    await frame().goto(`${labUrl()}?embed=1&seed=4&tokens=30`);
    await ready(frame());
    await frame().click('#generate');
    await frame().waitForFunction(() => document.getElementById('output-gen').textContent.length === 30);
    await context.close();
  } finally {
    notes.server.close();
  }
});

test('no console errors and no request outside localhost', () => {
  assert.deepEqual(errors, []);
  assert.deepEqual(outside, []);
});
