// The seed's five conclusions, one verdict each, and the experiments their links open; the
// stability experiment; and the numbers that the page's sentences quote, as a student sees them.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openLab } from './lib/harness.mjs';

let lab;
before(async () => { lab = await openLab(); });
after(async () => { await lab?.close(); });

const ready = (page) => page.waitForSelector('body[data-ready="1"]', { timeout: 30_000 });
/** A number as the page writes it: U+2212 for minus, U+202F between thousands. */
const num = (text) => Number(text.replace(/−/g, '-').replace(/\u202F/g, ''));

test('five conclusions, each with a verdict and a link', async () => {
  const { page, url } = lab;
  await page.goto(url);
  await ready(page);
  const verdicts = await page.$$eval('#verdicts .verdict', (els) => els.map((e) => e.textContent));
  assert.deepEqual(verdicts, ['Confirmed', 'Confirmed', 'Refuted', 'Corrected', 'Corrected']);
  const links = await page.$$eval('#verdicts a[data-verdict]', (as) => as.map((a) => a.dataset.verdict));
  assert.deepEqual(links, ['1', '1b', '2', '3', '4', '5']);
  assert.match(await page.textContent('#verdicts'), /up to one constant per row/);
});

test('verdict 3: temperature after log-softmax, at T = 0.5, differs by float rounding only', async () => {
  const { page } = lab;
  await page.click('#verdicts a[data-verdict="3"]');
  await ready(page);
  assert.match(page.url(), /view=numbers&numbersTemperature=0\.5/);
  assert.equal(await page.isVisible('#view-numbers'), true);
  assert.equal(await page.inputValue('#n-temperature'), '0.5');
  assert.ok(num(await page.textContent('#n-maxdiff')) < 1e-6);
});

test('verdict 4: float16 loses the tail, log-probs and bfloat16 keep it', async () => {
  const { page, url } = lab;
  await page.goto(url);
  await ready(page);
  await page.click('#verdicts a[data-verdict="4"]');
  await ready(page);
  await page.waitForFunction(() => document.getElementById('z-f16').textContent !== '');
  const n = async (id) => Number(await page.textContent(`#${id}`));
  assert.ok(await n('z-f16') > 0);
  assert.equal(await n('r-f16'), await n('z-f16'), 'ln 0 = −∞ at every temperature');
  for (const id of ['z-f32', 'z-bf16', 'z-log', 'r-log']) assert.equal(await n(id), 0, id);
  // The thresholds the card prints, from the wasm.
  assert.equal(await page.textContent('#t-f16'), '2−25ln p ≤ −17.33');
  assert.equal(await page.textContent('#t-bf16'), '2−134ln p ≤ −92.89');
  assert.equal(await page.textContent('#t-f32'), '2−150ln p ≤ −103.98');
  // The verdicts follow the stored counts, and the minimum is printed on its true side.
  assert.match(await page.textContent('#precision-note'), /the smallest ln p here is −\d+\.\d\d, so float16 \(0 where ln p ≤ −17\.33\) stores some ids as 0; bfloat16 \(0 where ln p ≤ −92\.89\) keeps every id; float32 \(0 where ln p ≤ −103\.98\) keeps every id\./);
  // The link scrolled the precision card into view.
  const [top, height] = await page.$eval('#precision-title', (h) => [h.getBoundingClientRect().top, innerHeight]);
  assert.ok(top >= -1 && top < height - 100, `precision card at ${top}px of ${height}`);
});

test('verdict 2: generating from log_softmax(z) gives the same text as from z', async () => {
  const { page, url } = lab;
  const text = async (q) => {
    await page.goto(`${url}?${q}&tokens=120&seed=9`);
    await ready(page);
    await page.click('#generate');
    await page.waitForFunction(() => !document.getElementById('generate').disabled
      && document.getElementById('output-gen').textContent.length === 120);
    return page.textContent('#output-gen');
  };
  await page.goto(url);
  await ready(page);
  const href = await page.getAttribute('#verdicts a[data-verdict="2"]', 'href');
  const fromLogSoftmax = await text(href.slice(1));
  assert.equal(await page.isChecked('input[name=output][value=logSoftmax]'), true);
  assert.equal(fromLogSoftmax, await text('view=sample&output=logits'));
});

test('verdict 1: nll(log_softmax(z)) is crossEntropy(z); a near-tie flips argmax in bfloat16', async () => {
  const { page, url } = lab;
  await page.goto(url);
  await ready(page);
  await page.click('#verdicts a[data-verdict="1"]');
  await ready(page);
  await page.waitForSelector('#pipelines [data-pipeline=nllOnLogSoftmax] .bar-value');
  const loss = (p) => page.textContent(`#pipelines [data-pipeline=${p}] .loss-value`);
  const bars = (p) => page.$$eval(`#pipelines [data-pipeline=${p}] .bar-value`, (els) => els.map((e) => e.textContent));
  assert.equal(await loss('nllOnLogSoftmax'), await loss('crossEntropyOnLogits'));
  assert.deepEqual(await bars('nllOnLogSoftmax'), await bars('crossEntropyOnLogits'));

  await page.goto(url);
  await ready(page);
  await page.click('#verdicts a[data-verdict="1b"]');
  await ready(page);
  await page.waitForFunction(() => document.querySelectorAll('#classify tbody tr').length === 5);
  const rows = await page.$$eval('#classify tbody tr', (trs) => trs.map((tr) => [tr.cells[0].textContent, tr.cells[1].textContent]));
  assert.deepEqual(rows, [
    ['logits z', '1'], ['log-probs (float32)', '1'], ['probabilities (float32)', '1'],
    ['probabilities (bfloat16)', '0'], ['probabilities (float16)', '1'],
  ]);
});

test('an embedded lab keeps embed=1 and hide= when a verdict link is followed', async () => {
  const { page, url } = lab;
  await page.goto(`${url}?embed=1&hide=draws`);
  await ready(page);
  assert.equal(await page.getAttribute('#verdicts', 'open'), null, 'folded in an iframe');
  await page.click('#verdicts summary');
  await page.click('#verdicts a[data-verdict="3"]');
  await ready(page);
  const q = new URL(page.url()).searchParams;
  assert.equal(q.get('embed'), '1');
  assert.equal(q.get('hide'), 'draws');
  assert.equal(q.get('view'), 'numbers');
  assert.equal(await page.isHidden('header.chrome'), true);
});

test('stability: the naive log(softmax(z)) breaks, log_softmax does not, with the presets', async () => {
  const { page, url } = lab;
  await page.goto(`${url}?view=numbers`);
  await ready(page);
  const cells = () => page.$$eval('#s-table tbody tr', (trs) => trs.map((tr) => Array.from(tr.cells, (c) => c.textContent)));
  await page.click('[data-preset="1000, 0"]');
  assert.deepEqual(await cells(), [['0', '1\u202F000.00', '0.00000', 'NaN', 'NaN'], ['1', '0.00000', '−1\u202F000.00', '−∞', '−∞']]);
  assert.match(await page.textContent('#s-summary'), /naive float32: 1 NaN and 1 −∞/);
  await page.click('[data-preset="-1000, 0"]');
  assert.deepEqual((await cells())[0].slice(0, 4), ['0', '−1\u202F000.00', '−1\u202F000.00', '−∞']);
  await page.click('[data-preset="100, 0*49999"]');
  await page.waitForFunction(() => /50\u202F000 ids/.test(document.getElementById('s-summary').textContent));
  assert.match(await page.textContent('#s-summary'), /naive float32: 1 NaN and 49\u202F999 −∞.*stable log_softmax: every entry finite/);
  assert.equal((await cells()).length, 10);
  assert.match(await page.textContent('#n-more'), /first 10 of 50\u202F000 ids/);
  assert.match(page.url(), /numbersLogits=100%2C\+0\*49999/);
  // The URL is the state: a reload shows the same vector.
  await page.reload();
  await ready(page);
  assert.equal(await page.inputValue('#logits'), '100, 0*49999');
  assert.equal((await cells()).length, 10);
  await page.fill('#logits', '1, oops, 2');
  assert.match(await page.textContent('#n-error'), /^logits z: z\[1\] is “oops”, which is not a number/);
});

test('identity panel at T = 0 says greedy and shows the one-hot of the argmax', async () => {
  const { page, url } = lab;
  await page.goto(`${url}?temperature=0`);
  await ready(page);
  await page.waitForFunction(() => document.getElementById('id-logits').children.length > 0);
  assert.match(await page.textContent('#identity-t'), /T = 0 \(greedy\).*lowest id on a tie/);
  const first = await page.$$eval('#id-logits li, #id-lsm li', (lis) => lis.map((li) => li.textContent.trim().split(/\s+/).pop()));
  assert.equal(first[0], '1.000000');
  assert.equal(first[6], '1.000000');
  assert.equal(num(await page.textContent('#maxdiff')), 0);
});

test('the gradient bars are (softmax − onehot)/N, and the card says N', async () => {
  const { page, url } = lab;
  await page.goto(`${url}?view=train`);
  await ready(page);
  await page.waitForSelector('#pipelines [data-pipeline=crossEntropyOnLogits] .bar-value');
  const n = Number((await page.textContent('#l-what')).match(/^(\d+) predictions/)[1]);
  assert.equal(n, 7, 'ROMEO:\\n has 7 characters, each predicting the next');
  assert.match(await page.textContent('#grad-note'), /N = 7 \(the mean over the context's 7 predictions\)/);
  const rows = await page.$$eval('#l-vector tbody tr', (trs) => trs.map((tr) => ({
    target: tr.classList.contains('target-row'), p: tr.cells[4].textContent }))).then((rs) => rs.map((r) => ({ ...r, p: num(r.p) })));
  const grad = (await page.$$eval('#pipelines [data-pipeline=crossEntropyOnLogits] .bar-value', (els) => els.map((e) => e.textContent))).map(num);
  rows.forEach((r, k) => {
    const want = (r.p - (r.target ? 1 : 0)) / n;
    assert.ok(Math.abs(grad[k] - want) < 2e-4, `row ${k}: ${grad[k]} vs ${want}`);
  });
  // Under sum the bars are N times larger, and N = 1.
  await page.check('input[name=reduction][value=sum]');
  await page.waitForFunction(() => /N = 1 \(sum\)/.test(document.getElementById('grad-note').textContent));
  const sum = (await page.$$eval('#pipelines [data-pipeline=crossEntropyOnLogits] .bar-value', (els) => els.map((e) => e.textContent))).map(num);
  // Both are shown to 3 significant digits.
  sum.forEach((g, k) => assert.ok(Math.abs(g - n * grad[k]) < 0.01 * Math.abs(g) + 1e-6, `${g} vs ${n} × ${grad[k]}`));
});

test('no console errors and no request outside localhost', async () => {
  assert.deepEqual(lab.consoleErrors, []);
  assert.deepEqual(lab.outside, []);
});
