// The loss and training lab as a student uses it: the loss calculator against hand-computed
// values, play / pause / step / reset of four runs, the URL round trip, and leaving the view.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openLab } from './lib/harness.mjs';

let lab;
before(async () => { lab = await openLab(); });
after(async () => { await lab?.close(); });

const ready = (page) => page.waitForSelector('body[data-ready="1"]', { timeout: 30_000 });
const card = (page, pipeline) => page.textContent(`#pipelines [data-pipeline=${pipeline}] .loss-value`);
/** A number as the page writes it: U+2212 for minus, U+202F between thousands. */
const num = (text) => Number(text.replace(/−/g, '-').replace(/\u202F/g, ''));
const lossOf = async (page, pipeline) => num((await card(page, pipeline)).match(/loss = (−?[\d.\u202F]+)/)[1]);
const gradOf = async (page, pipeline) => (await page.$$eval(`#pipelines [data-pipeline=${pipeline}] .bar-value`,
  (els) => els.map((e) => e.textContent))).map(num);
/** Latest figures of each run: pipeline → { step, loss, trainCe, valCe } as shown. */
const table = (page) => page.$$eval('#train-table tbody tr', (trs) => Object.fromEntries(trs.map((tr) => {
  const [step, loss, trainCe, valCe] = Array.from(tr.cells).slice(1).map((td) => td.textContent);
  return [tr.dataset.pipeline, { step: Number(step), loss, trainCe, valCe }];
})));

test('the loss calculator on a typed vector matches the hand values', async () => {
  const { page, url } = lab;
  await page.goto(`${url}?view=train&lossSource=typed&logits=1,2,3&targetId=2`);
  await ready(page);
  await page.waitForSelector('#pipelines [data-pipeline=nllOnLogits]');
  const lse = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3));
  // crossEntropy(z, 2) = logsumexp(z) − z_2, and nll(log_softmax(z)) is the same number.
  assert.ok(Math.abs(await lossOf(page, 'crossEntropyOnLogits') - (lse - 3)) < 1e-4);
  assert.ok(Math.abs(await lossOf(page, 'nllOnLogSoftmax') - (lse - 3)) < 1e-4);
  // nll on raw logits: −z_2 = −3, a negative "loss".
  assert.equal(await lossOf(page, 'nllOnLogits'), -3);
  // crossEntropy(softmax(z)): logsumexp(p) − p_2.
  const p = [1, 2, 3].map((z) => Math.exp(z - lse));
  const want = Math.log(p.reduce((s, x) => s + Math.exp(x), 0)) - p[2];
  assert.ok(Math.abs(await lossOf(page, 'crossEntropyOnSoftmax') - want) < 1e-4);
  // The correct pipelines' gradient is softmax − onehot; nll on logits' is −onehot. Bars are
  // listed by probability: ids 2, 1, 0.
  const order = [2, 1, 0];
  const softmaxMinusOnehot = order.map((i) => p[i] - (i === 2 ? 1 : 0));
  for (const pipeline of ['crossEntropyOnLogits', 'nllOnLogSoftmax']) {
    const g = await gradOf(page, pipeline);
    g.forEach((x, k) => assert.ok(Math.abs(x - softmaxMinusOnehot[k]) < 1e-3, `${pipeline}: ${g}`));
  }
  assert.deepEqual(await gradOf(page, 'nllOnLogits'), [-1, 0, 0]);
  // The vector three ways: the target row is marked.
  assert.equal(await page.textContent('#l-vector .target-row td'), '2');
});

test('label smoothing and reduction change the numbers; nll says it has no smoothing', async () => {
  const { page } = lab;
  await page.locator('#labelSmoothing').fill('0.1');
  await page.waitForFunction(() => /nll takes no label smoothing/.test(document.querySelector('#pipelines [data-pipeline=nllOnLogits]').textContent));
  assert.match(page.url(), /labelSmoothing=0\.1/);
  // (1 − ε)(lse − z_y) + ε/C Σ_c (lse − z_c) with C = 3.
  const lse = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3));
  const want = 0.9 * (lse - 3) + (0.1 / 3) * (3 * lse - 6);
  assert.ok(Math.abs(await lossOf(page, 'crossEntropyOnLogits') - want) < 1e-4);
  // The model's context: several rows, so mean and sum differ by the number of rows.
  await page.locator('#labelSmoothing').fill('0');
  await page.check('input[name=lossSource][value=model]');
  await page.waitForFunction(() => /predictions/.test(document.getElementById('l-what').textContent));
  const n = Number((await page.textContent('#l-what')).match(/^(\d+) predictions/)[1]);
  const mean = await lossOf(page, 'crossEntropyOnLogits');
  await page.check('input[name=reduction][value=sum]');
  await page.waitForFunction(() => /sum of/.test(document.querySelector('#pipelines .loss-value').textContent));
  const sum = await lossOf(page, 'crossEntropyOnLogits');
  assert.ok(Math.abs(sum - n * mean) < 1e-3 * n, `sum ${sum} vs ${n} × ${mean}`);
  assert.match(page.url(), /reduction=sum/);
});

test('classification: every representation has the same argmax; float16 loses the tail', async () => {
  const { page } = lab;
  const rows = await page.$$eval('#classify tbody tr', (trs) => trs.map((tr) => Array.from(tr.cells, (c) => c.textContent)));
  assert.equal(rows.length, 5);
  assert.equal(new Set(rows.map((r) => r[1])).size, 1, JSON.stringify(rows));
  assert.ok(num(rows[0][2]) < 1e-5 && num(rows[1][2]) < 1e-5, 'logits and log-probs re-heat exactly');
  assert.equal(rows[0][3], '0');
  // After "ROMEO:\n" float16 probabilities round at least one id to exactly 0: never drawn again.
  assert.ok(num(rows[4][3]) > 0, JSON.stringify(rows[4]));
});

test('step, play, pause and reset drive four runs from the same start', async () => {
  const { page, url } = lab;
  await page.goto(`${url}?view=train`);
  await ready(page);
  await page.click('#train-step');
  await page.waitForFunction(() => document.querySelectorAll('#train-table tbody tr').length === 4
    && /^step 1/.test(document.getElementById('train-status').textContent), null, { timeout: 30_000 });
  let t = await table(page);
  assert.deepEqual(Object.values(t).map((r) => r.step), [1, 1, 1, 1]);
  // Same init and the same first batch: the true cross-entropy of step 1 is the same for all.
  assert.equal(new Set(Object.values(t).map((r) => r.trainCe)).size, 1, JSON.stringify(t));
  const stepOne = t;

  await page.click('#play');
  await page.waitForFunction(() => Number(document.querySelector('#train-table tbody tr td').textContent) >= 30, null, { timeout: 60_000 });
  await page.click('#play'); // pause
  await page.waitForFunction(() => document.getElementById('play').textContent === 'Play');
  t = await table(page);
  const paused = t.crossEntropyOnLogits.step;
  await page.waitForTimeout(500);
  assert.equal((await table(page)).crossEntropyOnLogits.step, paused, 'no step after pause');
  // The two correct pipelines are the same computation: identical figures.
  assert.deepEqual(t.crossEntropyOnLogits, t.nllOnLogSoftmax);
  // nll on logits drives its own "loss" below zero while the others stay positive.
  assert.ok(num(t.nllOnLogits.loss) < 0, JSON.stringify(t.nllOnLogits));
  assert.ok(num(t.crossEntropyOnLogits.loss) > 0);
  assert.match(await page.textContent('#train-status'), /steps\/s/);

  await page.click('#train-sample');
  await page.waitForSelector('#samples figure');
  assert.equal((await page.$$('#samples figure')).length, 4);

  await page.click('#reset');
  await page.waitForFunction(() => document.querySelector('#train-table tbody tr td').textContent === '0');
  assert.equal((await page.$$('#samples figure')).length, 0);
  // The same seed after a reset: step 1 gives the same numbers again.
  await page.click('#train-step');
  await page.waitForFunction(() => /^step 1/.test(document.getElementById('train-status').textContent));
  assert.deepEqual(await table(page), stepOne);
});

test('training settings live in the URL and restore', async () => {
  const { page, url } = lab;
  await page.goto(`${url}?view=train&preset=small&learningRate=0.003&batchSize=4&pipelines=nllOnLogits,crossEntropyOnLogits&trainSeed=7`);
  await ready(page);
  assert.equal(await page.inputValue('#preset'), 'small');
  assert.equal(await page.inputValue('#batchSize'), '4');
  assert.equal(await page.textContent('#learningRate-value'), '0.0030');
  assert.equal(await page.inputValue('#trainSeed'), '7');
  const checked = await page.$$eval('input[name=pipeline]:checked', (els) => els.map((e) => e.value));
  assert.deepEqual(checked, ['crossEntropyOnLogits', 'nllOnLogits']);
  await page.selectOption('#preset', 'tiny');
  assert.match(page.url(), /learningRate=0\.003/);
  assert.doesNotMatch(page.url(), /preset=/); // back to the default
  await page.click('#train-step');
  await page.waitForFunction(() => document.querySelectorAll('#train-table tbody tr').length === 2
    && /^step 1/.test(document.getElementById('train-status').textContent), null, { timeout: 30_000 });
});

test('training on pasted text: too short is a clear error, then it trains', async () => {
  const { page, url } = lab;
  await page.goto(`${url}?view=train&trainText=own&pipelines=crossEntropyOnLogits`);
  await ready(page);
  assert.equal(await page.isVisible('#own-text'), true);
  await page.fill('#own-text', 'to be or not to be');
  await page.click('#train-step');
  await page.waitForFunction(() => /text/.test(document.getElementById('train-status').textContent)
    && /characters/.test(document.getElementById('train-status').textContent));
  assert.match(await page.textContent('#train-status'), /Your text is too short for this model size: its training part/);
  // A longer text, with characters from outside the Basic Multilingual Plane: it trains.
  await page.fill('#own-text', 'Thương em 🌸 như thương lấy mình.\n'.repeat(60));
  await page.click('#train-step');
  await page.waitForFunction(() => /^step 1/.test(document.getElementById('train-status').textContent), null, { timeout: 30_000 });
  assert.doesNotMatch(page.url(), /own-text|Th%C6%B0/); // the pasted text stays on the page
});

test('leaving the view pauses training: no work left running in the worker', async () => {
  const { page, url } = lab;
  await page.goto(`${url}?view=train`);
  await ready(page);
  await page.click('#play');
  await page.waitForFunction(() => Number(document.querySelector('#train-table tbody tr td')?.textContent) >= 3, null, { timeout: 60_000 });
  await page.click('.tabs a[data-view=sample]');
  await page.waitForFunction(() => document.getElementById('play').textContent === 'Play');
  const steps = (await table(page)).crossEntropyOnLogits.step;
  // The worker is free: the sampling lab's panel answers at once, and training does not move.
  await page.locator('#temperature').fill('1.7');
  await page.waitForFunction(() => /temperature=1\.7/.test(location.search));
  await page.waitForTimeout(500);
  assert.equal((await table(page)).crossEntropyOnLogits.step, steps);
  await page.click('.tabs a[data-view=train]');
  assert.match(await page.textContent('#train-status'), /paused/);
});

test('no console errors and no request outside localhost', async () => {
  assert.deepEqual(lab.consoleErrors, []);
  assert.deepEqual(lab.outside, []);
});
