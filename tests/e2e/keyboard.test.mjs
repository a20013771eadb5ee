// The lab from the keyboard alone: Tab, Shift+Tab, Enter, Space and the arrow keys, never the
// mouse and never a focus() from the test. Generates text and stops it, samples 1 000 times,
// picks a target character, trains one step, plays and pauses, and copies a link. Every element
// the focus lands on shows a visible focus indicator, and the polite live region says what
// started and what finished.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openLab } from './lib/harness.mjs';

let lab;
before(async () => { lab = await openLab(); });
after(async () => { await lab?.close(); });

const ready = (page) => page.waitForSelector('body[data-ready="1"]', { timeout: 30_000 });

/** Presses Tab until the focus is on `selector`; checks each stop on the way shows its focus. */
async function tabTo(page, selector, { max = 150, back = false } = {}) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
    const stop = await page.evaluate((sel) => {
      const el = document.activeElement;
      const s = getComputedStyle(el);
      return { here: el.matches(sel), name: el.id || el.tagName, visible: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2 };
    }, selector);
    assert.ok(stop.visible, `no visible focus on ${stop.name}`);
    if (stop.here) return;
  }
  assert.fail(`Tab never reached ${selector}`);
}
const announced = (page) => page.textContent('#announcer');

test('generate, stop and sample 1 000 times from the keyboard', async () => {
  const { page, url } = lab;
  await page.goto(`${url}?tokens=2000`);
  await ready(page);
  await page.waitForSelector('#bars .bar-row');
  await tabTo(page, '#generate');
  await page.keyboard.press('Enter');
  // Generate is disabled while it runs: the focus moves to Stop, not to the page.
  await page.waitForFunction(() => document.activeElement?.id === 'stop');
  await page.waitForFunction(() => document.getElementById('output-gen').textContent.length > 20, null, { timeout: 30_000 });
  assert.match(await announced(page), /Generating/);
  await page.keyboard.press('Enter'); // Stop
  await page.waitForFunction(() => /stopped/.test(document.getElementById('gen-info').textContent));
  await page.waitForFunction(() => /Generation stopped after \d+/.test(document.getElementById('announcer').textContent));
  assert.equal(await page.evaluate(() => document.activeElement.id), 'generate');
  // Step one token: the next stop after Stop (which is disabled again) is Step.
  const before = (await page.textContent('#output-gen')).length;
  await tabTo(page, '#step');
  await page.keyboard.press('Space');
  await page.waitForFunction((n) => document.getElementById('output-gen').textContent.length === n + 1, before);
  await page.waitForFunction(() => /Generation finished: 1 /.test(document.getElementById('announcer').textContent));
  // The generated text: focus it, then walk its characters with the arrow keys.
  await tabTo(page, '#output');
  await page.keyboard.press('End');
  assert.match(await page.textContent('#token-info'), /surprisal/);
  await tabTo(page, '#draw');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#hist .bar-row');
  assert.match(await page.textContent('#hist-text'), /1\u202F000 draws/);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'draw');
});

test('pick a target character, train one step, play and pause from the keyboard', async () => {
  const { page, url } = lab;
  await page.goto(`${url}?view=train&pipelines=crossEntropyOnLogits,nllOnLogits`);
  await ready(page);
  await page.waitForSelector('#pipelines .pipeline');
  const target = await page.inputValue('#target');
  await tabTo(page, '#target');
  await page.keyboard.press('ArrowDown');
  await page.waitForFunction((t) => new URL(location.href).searchParams.get('target') !== null
    && document.getElementById('target').value !== t, target);
  await page.waitForFunction(() => /predicts your target/.test(document.getElementById('l-what').textContent));
  await tabTo(page, '#train-step');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => /^step 1/.test(document.getElementById('train-status').textContent), null, { timeout: 60_000 });
  await page.waitForFunction(() => /Trained one step: step 1/.test(document.getElementById('announcer').textContent));
  await tabTo(page, '#play', { back: true });
  await page.keyboard.press('Space');
  await page.waitForFunction(() => /Training started/.test(document.getElementById('announcer').textContent));
  await page.waitForFunction(() => Number(document.querySelector('#train-table tbody tr td').textContent) >= 3, null, { timeout: 60_000 });
  await page.keyboard.press('Space'); // the same button, now Pause
  await page.waitForFunction(() => /Training paused at step \d+/.test(document.getElementById('announcer').textContent));
  assert.equal(await page.textContent('#play'), 'Play');
  // The chart's text alternative carries each run's latest figures.
  assert.match(await page.getAttribute('#chart', 'aria-label'), /crossEntropy\(logits\) ✓ trains: step \d+, its loss \d+\.\d+/);
});

test('switch to Vietnamese and copy a link from the keyboard: the link keeps the language', async () => {
  const { page, url } = lab;
  await page.goto(`${url}?temperature=0.3`);
  await ready(page);
  await tabTo(page, '#lang-switch button[lang=vi]', { max: 5 });
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.documentElement.lang === 'vi' && document.body.dataset.ready === '1');
  assert.match(page.url(), /temperature=0\.3/);
  await page.waitForSelector('#bars .bar-row');
  await tabTo(page, '#copy-link');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.getElementById('copied').textContent !== '');
  assert.equal(await page.textContent('#copied'), 'Đã chép liên kết.');
  const link = await page.evaluate(() => navigator.clipboard.readText());
  assert.match(link, /\?temperature=0\.3&lang=vi$/);
  await tabTo(page, '#copy-embed');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.getElementById('copied').textContent === 'Đã chép mã nhúng.');
  assert.match(await page.evaluate(() => navigator.clipboard.readText()), /src="[^"]*temperature=0\.3&amp;embed=1&amp;lang=vi"|src="[^"]*temperature=0\.3&embed=1&lang=vi"/);
});

test('no console errors and no request outside localhost', () => {
  assert.deepEqual(lab.consoleErrors, []);
  assert.deepEqual(lab.outside, []);
});
