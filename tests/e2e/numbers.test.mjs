// The "your own logits" view: numbers the wasm computed for a vector the student types, under
// the strict CSP, within localhost, with a clean console.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openLab } from './lib/harness.mjs';

let lab;
before(async () => { lab = await openLab(); });
after(async () => { await lab?.close(); });

test('loads the wasm and shows softmax computed by it', async () => {
  const { page, url } = lab;
  await page.goto(`${url}?view=numbers`);
  await page.waitForSelector('#n-table tbody tr', { timeout: 20_000 });
  const rows = await page.$$eval('#n-table tbody tr', (trs) => trs.map((tr) =>
    Array.from(tr.cells, (td) => td.textContent)));
  assert.equal(rows.length, 5);
  // softmax([2, 1, 0.5, -1, -3])[0] by hand: e^2 / Σ e^{z_j}.
  const z = [2, 1, 0.5, -1, -3];
  const want = Math.exp(2) / z.reduce((s, x) => s + Math.exp(x), 0);
  assert.ok(Math.abs(Number(rows[0][3]) - want) < 1e-6, `${rows[0][3]} vs ${want}`);
});

test('temperature applied to log-softmax equals temperature applied to logits', async () => {
  const { page } = lab;
  await page.fill('#logits', '10, 3, -4, 0.25, 7');
  await page.locator('#n-temperature').fill('0.37');
  const diff = Number((await page.textContent('#n-maxdiff')).replace('−', '-')); // the page writes U+2212
  assert.ok(diff < 1e-5, `max |difference| = ${diff}`);
  assert.equal(await page.textContent('#n-temperature-value'), '0.37');
});

test('bad input shows a clear error and the page keeps working', async () => {
  const { page } = lab;
  await page.fill('#logits', '1, oops, 2');
  assert.match(await page.textContent('#n-error'), /^logits z: z\[1\] is “oops”, which is not a number/);
  await page.fill('#logits', '1, 2');
  assert.equal(await page.isHidden('#n-error'), true);
  const rows = await page.$$eval('#n-table tbody tr', (trs) => trs.length);
  assert.equal(rows, 2);
});

test('no console errors and no request outside localhost', async () => {
  assert.deepEqual(lab.consoleErrors, []);
  assert.deepEqual(lab.outside, []);
});
