// The iframe embed as an instructor uses it: course notes on another origin embed the page with
// embed=1; every view works inside the frame under the strict CSP, the page neither touches the
// embedding page (a cross-origin access would throw a SecurityError, which the console check
// catches) nor makes any request outside localhost.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from './lib/server.mjs';
import { loopbackPage } from './lib/harness.mjs';

let lab, notes, browser, dir, page, errors, outside;

before(async () => {
  lab = await startServer({ root: 'www' });
  dir = await mkdtemp(join(tmpdir(), 'logitlab-notes-'));
  // The course notes: another origin (another port), with its own CSP allowing the frame.
  await writeFile(join(dir, 'index.html'), `<!doctype html><meta charset="utf-8"><title>Course notes</title>
<h1>Week 3: the output layer</h1>
<p id="secret">the course's own data</p>
<iframe id="lab" src="${lab.url}?embed=1" width="1000" height="900" style="border:0" title="logitlab"></iframe>`);
  notes = await startServer({ root: dir, csp: `default-src 'self'; style-src 'unsafe-inline'; frame-src ${lab.url.replace(/\/$/, '')}` });
  ({ browser, page, errors, outside } = await loopbackPage());
});
after(async () => {
  await browser?.close();
  lab?.server.close();
  notes?.server.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const labFrame = () => page.frames().find((f) => f.url().startsWith(lab.url));

test('the notes embed the lab from another origin, and it generates', async () => {
  assert.notEqual(new URL(lab.url).origin, new URL(notes.url).origin);
  await page.goto(notes.url);
  await page.waitForFunction(() => document.getElementById('lab'));
  let frame;
  for (let i = 0; i < 100 && !(frame = labFrame()); i++) await page.waitForTimeout(50);
  assert.ok(frame, 'the lab frame is attached');
  await frame.waitForSelector('body[data-ready="1"]', { timeout: 30_000 });
  assert.equal(await frame.evaluate(() => document.body.classList.contains('embed')), true);
  assert.equal(await frame.isHidden('header.chrome'), true);
  await frame.click('#generate');
  await frame.waitForFunction(() => !document.getElementById('generate').disabled
    && document.getElementById('output-gen').textContent.length > 0, null, { timeout: 30_000 });
  // The frame cannot read the notes, and the notes are intact.
  assert.equal(await frame.evaluate(() => { try { return window.parent.document.title; } catch (e) { return e.name; } }), 'SecurityError');
  assert.equal(await page.textContent('#secret'), "the course's own data");
});

test('every view works inside the frame', async () => {
  const frame = labFrame();
  await frame.click('.tabs a[data-view=train]');
  await frame.waitForSelector('#pipelines [data-pipeline=crossEntropyOnSoftmax]');
  await frame.click('#train-step');
  await frame.waitForFunction(() => /^step 1/.test(document.getElementById('train-status').textContent), null, { timeout: 30_000 });
  await frame.click('.tabs a[data-view=numbers]');
  await frame.waitForSelector('#n-table tbody tr');
  assert.equal(await frame.$$eval('#n-table tbody tr', (trs) => trs.length), 5);
});

test('no console errors and no request outside localhost', () => {
  assert.deepEqual(errors, []);
  assert.deepEqual(outside, []);
});
