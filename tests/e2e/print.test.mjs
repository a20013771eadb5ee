// Printing (and PDF export): the current state, legibly. Controls print as their values, the
// generated text and the bars print, buttons and empty panels do not.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openLab } from './lib/harness.mjs';

let lab;
before(async () => { lab = await openLab(); });
after(async () => { await lab?.close(); });

test('the print stylesheet shows values, text and bars, and no controls or empty boxes', async () => {
  const { page, url } = lab;
  await page.goto(`${url}?temperature=0.5&topP=0.9&tokens=80&seed=2`);
  await page.waitForSelector('body[data-ready="1"]', { timeout: 30_000 });
  await page.click('#generate');
  await page.waitForFunction(() => document.getElementById('output-gen').textContent.length === 80);
  await page.emulateMedia({ media: 'print' });
  const visible = (sel) => page.$eval(sel, (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden');
  for (const sel of ['#generate', '#temperature', '.tabs', '#copy-link', '[data-part=draws]', '#status']) {
    assert.equal(await visible(sel), false, `${sel} is not printed`);
  }
  for (const sel of ['#temperature-value', '#topP-value', '#output-gen', '#bars .bar', '#precision-note', '#verdicts']) {
    assert.equal(await visible(sel), true, `${sel} is printed`);
  }
  assert.equal(await page.textContent('#temperature-value'), '0.50');
  // Of a radio group only the chosen option prints.
  assert.equal(await visible('input[name=output][value=logits]'), false);
  const chosen = await page.$$eval('fieldset.toggle label', (ls) => ls.filter((l) => l.getClientRects().length > 0).map((l) => l.textContent.trim()));
  assert.ok(chosen.includes('logits z') && !chosen.some((t) => t.startsWith('log_softmax')), JSON.stringify(chosen));
  // The generated text is not cut to the screen's scroll box.
  const [scroll, client] = await page.$eval('#output', (o) => [o.scrollHeight, o.clientHeight]);
  assert.ok(scroll <= client + 1, `${scroll} > ${client}`);
  const pdf = await page.pdf({ format: 'A4' });
  assert.ok(pdf.length > 10_000, `${pdf.length} bytes of PDF`);
  await page.emulateMedia({ media: 'screen' });
});

test('no console errors and no request outside localhost', () => {
  assert.deepEqual(lab.consoleErrors, []);
  assert.deepEqual(lab.outside, []);
});
