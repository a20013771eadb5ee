// The card "Calibration: the other temperature": nothing runs until the student asks; then the
// worker measures the default model on the shipped Hamlet scene, and the card shows the fitted
// T, ECE, NLL, Brier and top-1 accuracy before and after it (the accuracy the same), the two
// reliability diagrams and their bins as a table, and the sentences the wasm chose, every
// figure equal to the JS API's `calibration` on the same model and text. `hide=calibration`
// hides it. The console stays clean.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { openLab } from './lib/harness.mjs';
import { initSync, Model, calibration } from '../../www/pkg/logitlab.js';
import en from '../../www/i18n/en.js';

let lab;
before(async () => {
  lab = await openLab();
  initSync({ module: readFileSync('www/pkg/logitlab_bg.wasm') });
});
after(async () => { await lab?.close(); });

const ready = (page) => page.waitForSelector('body[data-ready="1"]', { timeout: 60_000 });
const SCENE = readFileSync('www/texts/hamlet-act1-scene1.txt', 'utf8');

/** The JS API's figures on the card's text, with the default model. */
function expected() {
  const model = Model.fromBytes(readFileSync('www/models/default.safetensors'));
  try {
    return calibration(model, SCENE, { bins: 15, fit: true });
  } finally {
    model.free();
  }
}

const f4 = (x) => x.toFixed(4);

test('the card measures on request and shows the JS API\'s figures', async () => {
  const { page, url, consoleErrors, outside } = lab;
  const r = expected();
  // The default model is overconfident on the held-out scene (tests/claims.rs).
  assert.ok(r.temperature > 1, String(r.temperature));
  assert.equal(r.confidence, 'overconfident');
  assert.equal(r.after.accuracy, r.accuracy);

  await page.goto(`${url}?lang=en`);
  await ready(page);
  // Nothing is measured on load.
  assert.equal(await page.isHidden('#calibration-result'), true);
  assert.equal(await page.textContent('#calibration-status'), '');

  await page.click('#calibrate');
  await page.waitForSelector('#calibration-result:not([hidden])', { timeout: 60_000 });
  const text = (id) => page.textContent(id);
  const T = r.temperature.toFixed(3);
  assert.equal(await text('#cal-col-before'), 'T = 1');
  assert.equal(await text('#cal-col-after'), `fitted T = ${T}`);
  assert.equal(await text('#cal-ece-before'), f4(r.ece));
  assert.equal(await text('#cal-ece-after'), f4(r.after.ece));
  assert.equal(await text('#cal-nll-before'), f4(r.nll));
  assert.equal(await text('#cal-nll-after'), f4(r.after.nll));
  assert.equal(await text('#cal-brier-before'), f4(r.brier));
  assert.equal(await text('#cal-brier-after'), f4(r.after.brier));
  // Top-1 accuracy: the same before and after, and the API's.
  assert.equal(await text('#cal-acc-before'), f4(r.accuracy));
  assert.equal(await text('#cal-acc-after'), await text('#cal-acc-before'));
  assert.match(await text('#calibration-same'), /Top-1 accuracy is the same at both temperatures/);

  const group = (n) => n.toLocaleString('en').replace(/,/g, '\u202F');
  assert.equal(await text('#calibration-split'),
    `${group([...SCENE].length)} characters, ${group(r.tokens)} tokens: T was fitted on ${group(r.fitPositions)} positions, ` +
    `and every figure is measured on the other ${group(r.positions)}.`);
  assert.equal(await text('#calibration-confidence'),
    `On the fitting half the model is overconfident: the NLL is least at T = ${T}, above 1, which lowers every confidence.`);
  // The sentence on the measured half is the one the wasm's eceFell and nllFell choose, with
  // the figures filled in.
  assert.equal(typeof r.eceFell, 'boolean');
  assert.equal(typeof r.nllFell, 'boolean');
  assert.equal(r.eceFell, r.after.ece < r.ece);
  assert.equal(r.nllFell, r.after.nll < r.nll);
  // measured is judged on the figures as shown, to 4 decimals.
  const f4n = (x) => Math.round(x * 1e4);
  const moved = f4n(r.after.ece) !== f4n(r.ece) && f4n(r.after.nll) !== f4n(r.nll);
  assert.equal(r.measured, moved
    ? `ece${f4n(r.after.ece) < f4n(r.ece) ? 'Down' : 'Up'}Nll${f4n(r.after.nll) < f4n(r.nll) ? 'Down' : 'Up'}` : 'unmoved');
  const key = `calibration.${r.measured}`;
  const figures = { eceBefore: f4(r.ece), eceAfter: f4(r.after.ece), nllBefore: f4(r.nll), nllAfter: f4(r.after.nll) };
  assert.equal(await text('#calibration-measured'), en[key].replace(/\{(\w+)\}/g, (_, k) => figures[k]));

  // Two diagrams, one bar and one gap per non-empty bin; their accessible names; the bins' table.
  const nonEmpty = (bins) => bins.filter((b) => b.count > 0).length;
  assert.equal(await page.locator('#rel-before .rel-bar').count(), nonEmpty(r.bins));
  assert.equal(await page.locator('#rel-after .rel-bar').count(), nonEmpty(r.after.bins));
  assert.match(await page.getAttribute('#rel-after svg', 'aria-label'), new RegExp(`^Reliability diagram at fitted T = ${T.replace('.', '\\.')}:`));
  const rows = await page.$$eval('#rel-data tbody tr', (trs) => trs.map((tr) => Array.from(tr.cells, (c) => c.textContent)));
  assert.equal(rows.length, 15);
  rows.forEach((row, i) => {
    const [b, a] = [r.bins[i], r.after.bins[i]];
    assert.deepEqual(row.slice(1), [group(b.count), b.count ? b.confidence.toFixed(3) : '—', b.count ? b.accuracy.toFixed(3) : '—',
      group(a.count), a.count ? a.confidence.toFixed(3) : '—', a.count ? a.accuracy.toFixed(3) : '—'], `bin ${i}`);
  });
  // The link to the sampling temperature goes to its slider.
  assert.equal(await page.getAttribute('[data-part=calibration] a[href="#temperature"]', 'href'), '#temperature');
  assert.match(await text('#calibration-status'), /^Measured in \d+\.\d\d s\.$/);
  assert.deepEqual(consoleErrors, []);
  assert.deepEqual(outside, []);
});

test('in Vietnamese the card speaks Vietnamese with a decimal comma; hide=calibration hides it', async () => {
  const { page, url, consoleErrors } = lab;
  const r = expected();
  await page.goto(`${url}?lang=vi`);
  await ready(page);
  await page.click('#calibrate');
  await page.waitForSelector('#calibration-result:not([hidden])', { timeout: 60_000 });
  const T = r.temperature.toFixed(3).replace('.', ',');
  assert.equal(await page.textContent('#cal-col-after'), `T đã khớp = ${T}`);
  assert.equal(await page.textContent('#cal-ece-before'), f4(r.ece).replace('.', ','));
  assert.match(await page.textContent('#calibration-confidence'), new RegExp(`quá tự tin: NLL nhỏ nhất ở T = ${T}`));

  await page.goto(`${url}?hide=calibration`);
  await ready(page);
  assert.equal(await page.isVisible('[data-part=calibration]'), false);
  assert.deepEqual(consoleErrors, []);
});
