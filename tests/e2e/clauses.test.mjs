// Sentences whose truth depends on the data: the page shows only the clause the wasm found to
// hold. The stable log_softmax's −∞ by cause, the classification table's two kinds of zero, the
// training note's lead over the runner-up, and the training build's size from the build.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { openLab } from './lib/harness.mjs';

let lab;
before(async () => { lab = await openLab(); });
after(async () => { await lab?.close(); });

const ready = (page) => page.waitForSelector('body[data-ready="1"]', { timeout: 30_000 });

test('the stable log_softmax says where it is −∞ and why', async () => {
  const { page, url } = lab;
  await page.goto(`${url}?view=numbers&numbersLogits=${encodeURIComponent('3e38, -3e38')}`);
  await ready(page);
  await page.waitForFunction(() => document.getElementById('s-summary').textContent !== '');
  assert.match(await page.textContent('#s-summary'), /stable log_softmax: 1 −∞ where z_i − max z overflows float32\./);
  await page.goto(`${url}?view=numbers&numbersLogits=${encodeURIComponent('0, -Infinity')}`);
  await ready(page);
  await page.waitForFunction(() => document.getElementById('s-summary').textContent !== '');
  assert.match(await page.textContent('#s-summary'), /stable log_softmax: 1 −∞ where z is −∞\./);
  await page.goto(`${url}?view=numbers&numbersLogits=${encodeURIComponent('2, 1, 0.5')}`);
  await ready(page);
  await page.waitForFunction(() => document.getElementById('s-summary').textContent !== '');
  assert.match(await page.textContent('#s-summary'), /stable log_softmax: every entry finite\./);
});

test('the classification table tells ids lost in storage from ids at 0 at this T', async () => {
  const { page, url } = lab;
  await page.goto(`${url}?view=train&lossSource=model&temperature=0.05`);
  await ready(page);
  await page.waitForFunction(() => document.querySelectorAll('#classify tbody tr').length === 5);
  const rows = await page.$$eval('#classify tbody tr', (trs) => trs.map((tr) => Array.from(tr.cells, (c) => c.textContent)));
  const headers = await page.$$eval('#classify thead th', (ths) => ths.map((th) => th.textContent));
  assert.deepEqual(headers.slice(3), ['never drawn', 'at 0 at this T']);
  // Logits lose nothing in storage; at T = 0.05 their tail underflows float32 all the same.
  assert.equal(rows[0][3], '0');
  for (const r of rows) assert.ok(Number(r[4]) > Number(r[3]), JSON.stringify(r));
});

test('the training note states a lead only where the text has one, and the build size from the build', async () => {
  const { page, url } = lab;
  const size = JSON.parse(await readFile('www/pkg-train/size.json', 'utf8'));
  await page.goto(`${url}?view=train&pipelines=crossEntropyOnSoftmax`);
  await ready(page);
  // Held back until the status has been read, so that the loading message is on screen.
  let release;
  const held = new Promise((r) => { release = r; });
  await page.route('**/pkg-train/logitlab_train_bg.wasm', async (route) => { await held; await route.continue(); });
  await page.click('#train-step');
  await page.waitForFunction(() => /training build/.test(document.getElementById('train-status').textContent));
  assert.equal(await page.textContent('#train-status'), `Loading the training build (${(size.bytes / 1e6).toFixed(1)} MB `
    + `of wasm, ${(size.gzipBytes / 1e6).toFixed(2)} MB gzipped) and creating the runs…`);
  release();
  await page.waitForFunction(() => /^step 1/.test(document.getElementById('train-status').textContent), null, { timeout: 60_000 });
  const romeo = await page.textContent('#ce-softmax-note');
  assert.match(romeo, /C = 69 characters/);
  assert.match(romeo, /already scores 3\.980 here/);
  assert.match(romeo, /The most frequent character, ␣ \(0\.152\), leads e \(0\.088\) by more than 0\.0243/);
  assert.doesNotMatch(romeo, /No character leads/);

  await page.goto(`${url}?view=train&trainText=own&pipelines=crossEntropyOnSoftmax`);
  await ready(page);
  await page.fill('#own-text', 'abc'.repeat(1000));
  await page.click('#train-step');
  await page.waitForFunction(() => /^step 1/.test(document.getElementById('train-status').textContent), null, { timeout: 60_000 });
  const abc = await page.textContent('#ce-softmax-note');
  const margin = ((Math.E - 1) / (Math.E + 2)).toFixed(4);
  assert.ok(abc.includes(`No character leads the runner-up by more than ${margin} here`), abc);
  assert.doesNotMatch(abc, /The most frequent character/);
  // One-hots on each character's successor reach the floor here: ln(1 + 2/e).
  const floor = Math.log(1 + 2 / Math.E).toFixed(3);
  assert.match(abc, new RegExp(`cannot go below ln\\(1 \\+ \\(C − 1\\)/e\\) = ${floor}.*already scores ${floor} here`));
});


test('the controls take their ranges from the URL schema; a value outside them falls back to the default', async () => {
  const { page, url } = lab;
  await page.goto(`${url}?view=train&batchSize=64&labelSmoothing=0.9&learningRate=0.5`);
  await ready(page);
  assert.deepEqual(await page.$$eval('#batchSize option', (os) => os.map((o) => o.textContent)), ['4', '8', '16', '32']);
  assert.equal(await page.inputValue('#batchSize'), '8');
  assert.deepEqual(await page.$eval('#labelSmoothing', (el) => [el.min, el.max, el.value]), ['0', '0.5', '0']);
  assert.deepEqual(await page.$eval('#learningRate', (el) => [el.min, el.max, el.value]), ['-4', '-1', '-2']);
  await page.goto(`${url}?view=train&batchSize=16&labelSmoothing=0.25`);
  await ready(page);
  assert.equal(await page.inputValue('#batchSize'), '16');
  assert.equal(await page.inputValue('#labelSmoothing'), '0.25');
});

test('no console errors and no request outside localhost', () => {
  assert.deepEqual(lab.consoleErrors, []);
  assert.deepEqual(lab.outside, []);
});
