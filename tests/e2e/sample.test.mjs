// The sampling lab as a student uses it: load, generate, move sliders, share a link.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openLab } from './lib/harness.mjs';

let lab;
before(async () => { lab = await openLab(); });
after(async () => { await lab?.close(); });

const ready = (page) => page.waitForSelector('body[data-ready="1"]', { timeout: 30_000 });
const outputText = (page) => page.textContent('#output-gen');

async function generate(page, n) {
  await page.evaluate((n) => { document.getElementById('clear').click(); }, n);
  await page.click('#generate');
  await page.waitForFunction(() => !document.getElementById('generate').disabled
    && document.getElementById('output-gen').textContent.length > 0, null, { timeout: 30_000 });
  return outputText(page);
}

test('loads the model and shows the next-token panel', async () => {
  const { page, url } = lab;
  await page.goto(url);
  await ready(page);
  assert.match(await page.textContent('#status'), /parameters/);
  const bars = await page.$$('#bars .bar-row');
  assert.ok(bars.length >= 10, `${bars.length} bars`);
  assert.match(await page.textContent('#entropy'), /nats/);
});

test('moving a slider recomputes the panel and updates the URL', async () => {
  const { page } = lab;
  const before = await page.textContent('#entropy');
  await page.locator('#temperature').fill('2.5');
  await page.waitForFunction((b) => document.getElementById('entropy').textContent !== b, before);
  assert.match(page.url(), /temperature=2\.5/);
  await page.locator('#topK').fill('3');
  await page.waitForFunction(() => document.getElementById('kept').textContent.startsWith('3 of'));
  assert.match(page.url(), /topK=3/);
  const greyed = await page.$$('#bars .muted-row');
  assert.ok(greyed.length > 0, 'ids cut by top-k are greyed');
});

test('the same seed gives the same text, and greedy is deterministic', async () => {
  const { page, url } = lab;
  await page.goto(`${url}?temperature=1&seed=7&tokens=80`);
  await ready(page);
  const a = await generate(page, 80);
  const b = await generate(page, 80);
  assert.equal(a.length, 80);
  assert.equal(a, b);
  await page.goto(`${url}?temperature=0&tokens=60`);
  await ready(page);
  const g1 = await generate(page, 60);
  await page.locator('#seed').fill('123');
  await page.locator('#seed').dispatchEvent('change');
  const g2 = await generate(page, 60);
  assert.equal(g1, g2, 'greedy ignores the seed');
});

test('a URL restores the state exactly', async () => {
  const { page, url } = lab;
  const q = '?prompt=JULIET%3A%0A&temperature=0.5&topK=5&topP=0.9&minP=0.05&seed=11&output=logSoftmax&show=logProbs';
  await page.goto(url + q);
  await ready(page);
  assert.equal(await page.inputValue('#prompt'), 'JULIET:\n');
  assert.equal(await page.inputValue('#temperature'), '0.5');
  assert.equal(await page.inputValue('#topK'), '5');
  assert.equal(await page.inputValue('#topP'), '0.9');
  assert.equal(await page.inputValue('#minP'), '0.05');
  assert.equal(await page.inputValue('#seed'), '11');
  assert.equal(await page.isChecked('input[name=output][value=logSoftmax]'), true);
  assert.equal(await page.isChecked('input[name=show][value=logProbs]'), true);
  assert.equal(new URL(page.url()).search, q);
});

test('log-softmax output keeps temperature: the identity panel differs by < 1e-5', async () => {
  const { page, url } = lab;
  await page.goto(`${url}?output=logSoftmax&temperature=0.6`);
  await ready(page);
  await page.waitForFunction(() => document.getElementById('maxdiff').textContent !== '');
  const diff = Number((await page.textContent('#maxdiff')).replace('−', '-')); // the page writes U+2212
  assert.ok(diff < 1e-5, `max |difference| = ${diff}`);
});

test('hide= and embed=1 hide what the instructor asked', async () => {
  const { page, url } = lab;
  await page.goto(`${url}?embed=1&hide=topK,precision,tabs`);
  await ready(page);
  assert.equal(await page.isHidden('header.chrome'), true);
  assert.equal(await page.isHidden('[data-part=topK]'), true);
  assert.equal(await page.isHidden('[data-part=precision]'), true);
  assert.equal(await page.isVisible('[data-part=temperature]'), true);
});


test('precision view: float16 zeros stay zero after re-heating, log-probs keep every id', async () => {
  const { page, url } = lab;
  await page.goto(`${url}?precisionT=0.2`);
  await ready(page);
  await page.waitForFunction(() => document.getElementById('z-f16').textContent !== '');
  const n = async (id) => Number(await page.textContent(`#${id}`));
  assert.ok(await n('z-f16') > 0, 'some ids underflow in float16 at T = 0.2');
  assert.equal(await n('r-f16'), await n('z-f16'));
  assert.ok(await n('z-f16') >= await n('z-f32'));
  assert.equal(await n('z-log'), 0);
  assert.equal(await n('r-log'), 0);
});

test('Stop ends a long generation and the UI shows the true state', async () => {
  const { page, url } = lab;
  await page.goto(`${url}?tokens=5000&seed=5`);
  await ready(page);
  await page.click('#generate');
  await page.waitForFunction(() => document.getElementById('output-gen').textContent.length > 20);
  assert.equal(await page.isDisabled('#generate'), true);
  await page.click('#stop');
  await page.waitForFunction(() => !document.getElementById('generate').disabled);
  const n = (await page.textContent('#output-gen')).length;
  assert.ok(n < 5000, `stopped after ${n} characters`);
  assert.match(await page.textContent('#gen-info'), /stopped/);
  assert.equal(await page.isDisabled('#stop'), true);
  await page.waitForTimeout(300);
  assert.equal((await page.textContent('#output-gen')).length, n, 'no orphaned generation');
});

test('switching views during a generation stops it; nothing keeps running in the worker', async () => {
  const { page, url } = lab;
  await page.goto(`${url}?tokens=5000&seed=6`);
  await ready(page);
  await page.click('#generate');
  await page.waitForFunction(() => document.getElementById('output-gen').textContent.length > 20);
  await page.click('.tabs a[data-view=train]');
  // The train view's panel is computed by the same worker: it answers, so the worker is free.
  await page.waitForSelector('#pipelines .pipeline', { timeout: 30_000 });
  await page.click('.tabs a[data-view=sample]');
  await page.waitForFunction(() => !document.getElementById('generate').disabled);
  const n = (await page.textContent('#output-gen')).length;
  assert.ok(n < 5000, `stopped after ${n} characters`);
  assert.match(await page.textContent('#gen-info'), /stopped/);
  await page.waitForTimeout(300);
  assert.equal((await page.textContent('#output-gen')).length, n, 'no orphaned generation');
});

test('copy embed code gives an iframe of this state with embed=1', async () => {
  const { page, url } = lab;
  await page.goto(`${url}?temperature=0.3`);
  await ready(page);
  await page.click('#copy-embed');
  await page.waitForFunction(() => document.getElementById('copied').textContent !== '');
  const shown = await page.textContent('#copied');
  const text = shown.includes('<iframe') ? shown
    : await page.evaluate(() => navigator.clipboard.readText());
  assert.match(text, /<iframe data-logitlab src="http:\/\/127\.0\.0\.1:\d+\/\?temperature=0\.3&amp;embed=1|<iframe data-logitlab src="[^"]*temperature=0\.3&embed=1/);
  assert.match(text, /<script src="http:\/\/127\.0\.0\.1:\d+\/embed\.js" defer><\/script>/);
});

test('no console errors and no request outside localhost', async () => {
  assert.deepEqual(lab.consoleErrors, []);
  assert.deepEqual(lab.outside, []);
});
